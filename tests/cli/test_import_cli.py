"""`facebank import` from the shell: progress, summary and report; and an import killed
halfway (SIGKILL, or Ctrl-C) that, run again, ends exactly where an uninterrupted one does."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from facebank.cli.importing import ProgressBar
from facebank.cli.main import main
from facebank.config import Settings
from facebank.services.import_report import ImportSummary
from tests.api.conftest import make_settings
from tests.conftest import REPO
from tests.services.import_sources import Gallery, every_identity_source, folder_source, gallery
from tests.waiting import wait_until

# Stopped once this many people are committed: well before the end of every_identity_source.
STOP_AFTER_PEOPLE = 3


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FACEBANK_DATABASE_URL", "FACEBANK_SECRET_KEY", "FACEBANK_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def _import(settings: Settings, source: Path, report: Path, *extra: str) -> int:
    os.environ.update(_env(settings))
    try:
        return main(["import", str(source), "--report", str(report), "--workers", "2", *extra])
    finally:
        for name in _env(settings):
            del os.environ[name]


def _env(settings: Settings) -> dict[str, str]:
    return {
        "FACEBANK_DATA_DIR": str(settings.data_dir),
        "FACEBANK_DATABASE_URL": settings.database_url,
    }


@pytest.mark.usefixtures("clean_env")
def test_progress_summary_and_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = folder_source(tmp_path)
    report = tmp_path / "report.json"
    settings = make_settings(tmp_path / "data")
    assert _import(settings, source, report) == 0
    out, err = capsys.readouterr()
    assert "photos/s" in out and "4 created" in out
    assert "12/12 photos 100%" in err  # not a terminal: plain progress lines
    body = json.loads(report.read_text())
    assert body["faces_added"] == 9
    assert sorted(s["reason"] for s in body["skipped"]) == [
        "duplicate",
        "image_invalid",
        "missing_file",
        "no_face",
    ]
    csv_report = tmp_path / "again.csv"
    assert _import(settings, source, csv_report) == 0
    assert "faces added: 0" in capsys.readouterr().out
    assert csv_report.read_text().splitlines()[0] == "person,photo,reason,detail"


STOPS = [
    pytest.param("sqlite", signal.SIGKILL, id="sqlite-sigkill"),
    pytest.param("sqlite", signal.SIGINT, id="sqlite-ctrl-c"),
    pytest.param("mysql", signal.SIGKILL, id="mysql-sigkill", marks=pytest.mark.mysql),
    pytest.param("postgresql", signal.SIGKILL, id="postgresql-sigkill", marks=pytest.mark.postgres),
]


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(("kind", "stop"), STOPS)
def test_an_interrupted_import_resumes_to_the_uninterrupted_result(
    tmp_path: Path, kind: str, stop: signal.Signals
) -> None:
    source = every_identity_source(tmp_path / "src")
    total = sum(1 for p in source.iterdir() if p.is_dir())
    with gallery(kind, tmp_path / "stopped") as resumed, gallery(kind, tmp_path / "whole") as whole:
        report = tmp_path / "stopped-report.csv"
        err = _stop_an_import(resumed, source, report, stop)
        assert STOP_AFTER_PEOPLE <= resumed.people_count() < total
        if stop == signal.SIGINT:
            assert b"run the same command again" in err
            assert report.exists()  # what it skipped so far

        assert _import(resumed.settings, source, tmp_path / "resumed.csv") == 0
        assert _import(whole.settings, source, tmp_path / "whole.csv") == 0
        assert resumed.state() == whole.state()
        # Not created: Nobody_Here and Empty_Folder (no usable photo), and fr_biden,
        # fr_rose_leslie, fr_kit_harington, whose photos are already Joe_Biden's, ... (duplicate)
        assert len(resumed.state()) == total - 5
    resumed_report = (tmp_path / "resumed.csv").read_text().splitlines()
    assert sorted(resumed_report) == sorted((tmp_path / "whole.csv").read_text().splitlines())


def _stop_an_import(target: Gallery, source: Path, report: Path, stop: signal.Signals) -> bytes:
    """Start `facebank import` in a subprocess, send it `stop` once it has committed a few
    people (seen by polling the database), and return its stderr."""
    command = [sys.executable, "-m", "facebank.cli.main", "import", str(source), "--workers", "1"]
    proc = subprocess.Popen(
        [*command, "--report", str(report)],
        env={**os.environ, **_env(target.settings), "PYTHONPATH": str(REPO)},
        start_new_session=True,  # its own process group: the signal reaches the workers too
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: target.people_count() >= STOP_AFTER_PEOPLE,
            timeout=180,
            what="the import to commit its first people",
        )
        os.killpg(proc.pid, stop)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    expected = 130 if stop == signal.SIGINT else -signal.SIGKILL
    assert proc.returncode == expected, err.decode(errors="replace")[-2000:]
    return err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_bar_is_redrawn_in_place_with_rate_and_eta() -> None:
    stream = _Terminal()
    bar = ProgressBar(stream)
    summary = ImportSummary(photos_total=10, photos_done=4, elapsed_s=3.0, warmup_s=1.0)
    bar.show(summary)
    summary.photos_done, summary.elapsed_s = 10, 6.0
    bar.show(summary)
    bar.end()
    drawn = stream.getvalue()
    assert drawn.count("\r\033[K") == 2 and drawn.endswith("\n")
    assert "4/10 photos 40%  1.5/s  ETA 4 s" in drawn
    assert "10/10 photos 100%" in drawn

"""`facebank import` from the shell: progress, summary and report; and an import killed
halfway (SIGKILL, or Ctrl-C) that, run again, ends exactly where an uninterrupted one does."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from facebank.cli.main import main
from tests.conftest import REPO
from tests.services.import_sources import every_identity_source, folder_source, gallery
from tests.waiting import wait_until

# Stopped once this many people are committed: well before the end of every_identity_source.
STOP_AFTER_PEOPLE = 3


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FACEBANK_DATABASE_URL", "FACEBANK_SECRET_KEY", "FACEBANK_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def _import(data: Path, source: Path, report: Path, *extra: str) -> int:
    os.environ["FACEBANK_DATA_DIR"] = str(data)
    try:
        return main(["import", str(source), "--report", str(report), "--workers", "2", *extra])
    finally:
        del os.environ["FACEBANK_DATA_DIR"]


@pytest.mark.usefixtures("clean_env")
def test_progress_summary_and_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = folder_source(tmp_path)
    report = tmp_path / "report.json"
    assert _import(tmp_path / "data", source, report) == 0
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
    assert _import(tmp_path / "data", source, csv_report) == 0
    assert "faces added: 0" in capsys.readouterr().out
    assert csv_report.read_text().splitlines()[0] == "person,photo,reason,detail"


def _people_in(database: Path) -> int:
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM people").fetchone()[0])
    except sqlite3.Error:  # not created or not migrated yet
        return 0


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["sigkill", "ctrl-c"])
def test_an_interrupted_import_resumes_to_the_uninterrupted_result(
    tmp_path: Path, stop: signal.Signals
) -> None:
    source = every_identity_source(tmp_path / "src")
    total = sum(1 for p in source.iterdir() if p.is_dir())
    stopped = tmp_path / "stopped"
    command = [sys.executable, "-m", "facebank.cli.main", "import", str(source), "--workers", "1"]
    env = {**os.environ, "FACEBANK_DATA_DIR": str(stopped), "PYTHONPATH": str(REPO)}
    report = tmp_path / "stopped-report.csv"
    proc = subprocess.Popen(
        [*command, "--report", str(report)],
        env=env,
        start_new_session=True,  # its own process group: the signal reaches the workers too
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: _people_in(stopped / "facebank.db") >= STOP_AFTER_PEOPLE,
            timeout=180,
            what="the import to commit its first people",
        )
        os.killpg(proc.pid, stop)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert STOP_AFTER_PEOPLE <= _people_in(stopped / "facebank.db") < total
    if stop == signal.SIGINT:
        assert proc.returncode == 130 and b"run the same command again" in err
        assert report.exists()  # what it skipped so far

    assert _import(stopped, source, tmp_path / "resumed.csv") == 0
    whole = tmp_path / "whole"
    assert _import(whole, source, tmp_path / "whole.csv") == 0
    with gallery("sqlite", stopped) as resumed, gallery("sqlite", whole) as uninterrupted:
        assert resumed.state() == uninterrupted.state()
        # Not created: Nobody_Here and Empty_Folder (no usable photo), and fr_biden,
        # fr_rose_leslie, fr_kit_harington, whose photos are already Joe_Biden's, ... (duplicate)
        assert len(resumed.state()) == total - 5
    resumed_report = (tmp_path / "resumed.csv").read_text().splitlines()
    assert sorted(resumed_report) == sorted((tmp_path / "whole.csv").read_text().splitlines())

"""`facebank bench` ends with a one-line reason, not a traceback, when it cannot run."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from facebank.cli.main import main
from tests.conftest import PEOPLE


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_server_exits_2_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    code = main(
        ["bench", "--url", url, "--photos", str(PEOPLE), "--concurrency", "1",
         "--duration", "1", "--json", str(tmp_path / "b.json"), "--png", str(tmp_path / "b.png")]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert url in err and "ConnectionRefusedError" in err
    assert not (tmp_path / "b.json").exists()


def test_vs_stock_against_an_unreachable_server_exits_2_before_measuring_stock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    code = main(
        ["bench", "--vs-stock", "--url", url, "--photos", str(PEOPLE), "--concurrency", "1",
         "--duration", "1", "--json", str(tmp_path / "b.json"), "--png", str(tmp_path / "b.png")]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 2 and url in captured.err and "ConnectionRefusedError" in captured.err
    assert "vs stock" not in captured.err + captured.out  # the server is asked first
    assert not (tmp_path / "b.json").exists()


def test_bench_restore_reports_the_rate_with_the_index_ready(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    for identity in ("fr_biden", "fr_rose_leslie"):
        shutil.copytree(PEOPLE / identity, photos / identity)
    result, kept = tmp_path / "restore.json", tmp_path / "kept.zip"
    code = main(
        ["bench", "restore", "--faces", "250", "--faces-per-person", "4", "--photos",
         str(photos), "--workers", "1", "--json", str(result), "--archive", str(kept)]
    )  # fmt: skip
    assert code == 0
    measured = json.loads(result.read_text())
    assert (measured["faces"], measured["people"], measured["index_size"]) == (250, 63, 250)
    assert measured["photos"] == 4 and measured["faces_per_s"] > 0
    assert json.loads(capsys.readouterr().out) == measured
    # Again on the kept archive, as it is: --faces and the photos no longer matter.
    code = main(["bench", "restore", "--faces", "9", "--photos", str(tmp_path / "none"),
                 "--archive", str(kept), "--json", str(result)])  # fmt: skip
    assert code == 0
    assert json.loads(result.read_text())["faces"] == 250

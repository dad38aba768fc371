"""`facebank bench` ends with a one-line reason, not a traceback, when it cannot run."""

from __future__ import annotations

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
    assert url in err and "ClientConnectorError" in err
    assert not (tmp_path / "b.json").exists()

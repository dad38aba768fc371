"""`facebank sessions-bench` runs end to end (briefly) and reports what it promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facebank.cli import sessions_bench
from facebank.cli.main import _parser
from facebank.config import Settings
from tests.conftest import PEOPLE


def test_sessions_bench_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    args = _parser().parse_args([
        "sessions-bench", "--cameras", "2", "--fps", "5", "--size", "640x360",
        "--duration", "6", "--warmup", "1", "--photos", str(PEOPLE), "--json", str(out),
    ])
    assert args.handler is sessions_bench.run  # registered with the `facebank` command
    # Called directly: main() would also reconfigure logging for the rest of the test run.
    assert sessions_bench.run(Settings(_env_file=None), args) == 0
    assert "achieved fps per camera" in capsys.readouterr().out
    [level] = json.loads(out.read_text())
    assert level["cameras"] == 2 and len(level["fps_per_camera"]) == 2
    assert all(fps > 2 for fps in level["fps_per_camera"])
    assert level["cpu_cores"] > 0
    assert all(0 <= s < 5 for s in level["latency_s"])

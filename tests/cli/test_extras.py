"""The runtime does without the bench extra: the app and the command line import neither
matplotlib nor insightface, and `facebank bench` without them names the extra to install."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.machinery import ModuleSpec
from importlib.util import find_spec
from pathlib import Path

import pytest

from facebank.cli import extras
from facebank.cli.main import main
from tests.conftest import REPO

BENCH_ONLY = ("matplotlib", "insightface")
PROBE = """
import json, sys
from facebank.api.app import create_app
from facebank.cli.main import _parser
from facebank.config import Settings
create_app(Settings(_env_file=None, data_dir=sys.argv[1]))
_parser()
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {names!r})))
"""


def test_app_and_cli_import_no_bench_package(tmp_path: Path) -> None:
    probe = PROBE.format(names=set(BENCH_ONLY))
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_bench_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def without_matplotlib(name: str) -> ModuleSpec | None:
        return None if name == "matplotlib" else find_spec(name)

    monkeypatch.setattr(extras, "find_spec", without_matplotlib)
    with pytest.raises(SystemExit) as exited:
        main(["bench", "--url", "http://127.0.0.1:9"])
    message = str(exited.value.code)
    assert "facebank[bench]" in message and "matplotlib" in message

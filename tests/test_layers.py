"""The layer rules of pyproject's [tool.importlinter] (the same contracts `make lint` runs
with lint-imports), so the test suite also fails on a forbidden import; and every package
of facebank has its place in them, so a new package cannot slip past unlayered."""

from __future__ import annotations

import re
import tomllib

from importlinter import configuration
from importlinter.application.use_cases import lint_imports

from tests.conftest import REPO

PYPROJECT = REPO / "pyproject.toml"
configuration.configure()  # what the lint-imports command does first


def _layered_packages() -> set[str]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    [layers] = [c for c in config["contracts"] if c["type"] == "layers"]
    return {name.strip("() ") for layer in layers["layers"] for name in re.split("[|:]", layer)}


def test_import_contracts_are_kept() -> None:
    # Its report goes to stdout, which pytest shows when this fails.
    assert lint_imports(config_filename=str(PYPROJECT), cache_dir=None, no_logo=True)


def test_every_package_has_a_layer() -> None:
    packages = {
        path.stem if path.is_file() else path.name
        for path in (REPO / "facebank").iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and path.name != "__init__.py")
    }
    assert packages - _layered_packages() == set()

"""The store is the bottom layer: it must not import the layers built on it."""

from __future__ import annotations

import ast
from pathlib import Path

import facebank.store

FORBIDDEN = ("facebank.api", "facebank.services", "facebank.index", "facebank.pipeline")


def test_store_imports_no_upper_layer() -> None:
    root = Path(facebank.store.__file__).parent
    offenders = []
    for source in root.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{source}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []

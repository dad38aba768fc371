"""Shared fixtures: the real photos in ../shared/faces and one loaded pipeline per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from facebank.config import Settings
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from tests.vectorpg import vector_server

REPO = Path(__file__).resolve().parents[1]
FACES = REPO.parent / "shared" / "faces"
PEOPLE = FACES / "people"
GROUPS = FACES / "group_photos"
YALE = FACES / "yale"
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"}


def _require_faces() -> None:
    if not PEOPLE.is_dir():
        pytest.fail(f"the shared face photos are missing: expected {PEOPLE} (../shared/faces)")


def identity_photos() -> dict[str, list[Path]]:
    """identity -> photos sorted by file name (the first one is the enrolled one)."""
    _require_faces()
    return {
        folder.name: sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        for folder in sorted(PEOPLE.iterdir())
        if folder.is_dir()
    }


@pytest.fixture(scope="session")
def people_photos() -> dict[str, list[Path]]:
    return identity_photos()


@pytest.fixture(scope="session")
def face_pipeline() -> FacePipeline:
    return build_pipeline(Settings(_env_file=None))


@pytest.fixture(scope="session")
def vector_url() -> Iterator[str]:
    """PostgreSQL 18 + pgvector (tests/vectorpg.py), started on first use, once per run."""
    with vector_server() as url:
        yield url

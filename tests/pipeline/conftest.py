"""Fixtures for pipeline tests: real photos from ../shared/faces and one loaded pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.config import Settings
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline

FACES = Path(__file__).resolve().parents[3] / "shared" / "faces"
PEOPLE = FACES / "people"
GROUPS = FACES / "group_photos"
YALE = FACES / "yale"
SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"}
# A frontal, single-face photo used wherever "one ordinary face" is needed.
SINGLE_FACE = PEOPLE / "fr_obama" / "obama.jpg"
HUGE_PHOTO = PEOPLE / "deepface_id09" / "img40.jpg"  # 3061x4600


def photos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        pytest.fail(f"shared face photos missing: {folder}")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)


@pytest.fixture(scope="session")
def pipeline() -> FacePipeline:
    return build_pipeline(Settings(_env_file=None))

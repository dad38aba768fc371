"""The default `negative_match` still separates near-duplicates of a photo from different
photos of the same person, on a sample of ../shared/faces (docs/negatives.md has the
measurement over all 77 photos)."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from tests.conftest import identity_photos

NEGATIVE_MATCH = Settings(_env_file=None).negative_match
SAMPLE = ["deepface_id07", "deepface_id02", "fr_kit_harington", "fr_alex_lacamoire"]


def _copies(path: Path) -> list[bytes]:
    """Re-encoded, downscaled to half, and cropped by 3% on each side."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    variants = [
        image,
        image.resize((w // 2, h // 2), Image.Resampling.BILINEAR),
        image.crop((int(w * 0.03), int(h * 0.03), w - int(w * 0.03), h - int(h * 0.03))),
    ]
    out = []
    for variant, quality in zip(variants, (50, 85, 90), strict=True):
        buffer = io.BytesIO()
        variant.save(buffer, "JPEG", quality=quality)
        out.append(buffer.getvalue())
    return out


def _embed(pipeline: FacePipeline, data: bytes) -> NDArray[np.float32]:
    return pipeline.analyze(data, 1)[1][0].embedding


def test_copies_are_caught_and_other_photos_are_not(face_pipeline: FacePipeline) -> None:
    photos = identity_photos()
    duplicates, same_person = [], []
    for identity in SAMPLE:
        originals = {p: _embed(face_pipeline, p.read_bytes()) for p in photos[identity]}
        for path, vector in originals.items():
            duplicates += [float(vector @ _embed(face_pipeline, c)) for c in _copies(path)]
        same_person += [float(a @ b) for a, b in itertools.combinations(originals.values(), 2)]
    assert min(duplicates) >= NEGATIVE_MATCH, sorted(duplicates)[:3]
    assert max(same_person) < NEGATIVE_MATCH, sorted(same_person)[-3:]

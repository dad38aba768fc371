"""The "not this person" filter on real embeddings from ../shared/faces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facebank.config import Settings
from facebank.index import GalleryIndex
from facebank.index.negative_filter import NegativeSet, filter_hits, widened_k
from facebank.pipeline.pipeline import FacePipeline
from tests.api.test_negatives import B_ENROLLED, B_OTHERS, STRANGER, re_encoded
from tests.conftest import identity_photos

NEGATIVE_MATCH = Settings(_env_file=None).negative_match
B, OBAMA = 7, 19


def _embed(pipeline: FacePipeline, photo: Path | bytes) -> NDArray[np.float32]:
    data = photo.read_bytes() if isinstance(photo, Path) else photo
    return pipeline.analyze(data, 1)[1][0].embedding.astype(np.float32)


def test_a_marked_face_and_its_copy_lose_that_person_only(face_pipeline: FacePipeline) -> None:
    gallery = [(B, p) for p in B_ENROLLED] + [(OBAMA, p) for p in identity_photos()["fr_obama"][:2]]
    index = GalleryIndex(face_pipeline.dim, face_pipeline.model_id)
    vectors = np.stack([_embed(face_pipeline, p) for _, p in gallery])
    index.add(np.arange(1, len(gallery) + 1), [person for person, _ in gallery], vectors)
    stranger = _embed(face_pipeline, STRANGER)
    negatives = NegativeSet.build(np.array([B], dtype=np.int64), stranger[None, :])

    queries = np.stack(
        [stranger, _embed(face_pipeline, re_encoded(STRANGER))]
        + [_embed(face_pipeline, p) for p in B_OTHERS]
    )
    raw = index.search(queries, 1)
    assert [row[0].person_id for row in raw] == [B] * len(queries)  # B wins every query

    k = widened_k(negatives, 1, None)
    assert k == 2 and widened_k(negatives, 1, {OBAMA}) == 1
    kept = filter_hits(queries, index.search(queries, k), negatives, NEGATIVE_MATCH, 1)
    assert [row[0].person_id for row in kept] == [OBAMA, OBAMA] + [B] * len(B_OTHERS)
    # Both copies are near-duplicates of the label; B's own photos are far from it.
    assert all(negatives.rejects(B, q, NEGATIVE_MATCH) for q in queries[:2])
    assert max(float(negatives.best(B, q) or 0) for q in queries[2:]) < NEGATIVE_MATCH - 0.3
    assert negatives.best(OBAMA, stranger) is None

"""pgvector and FAISS give the same recognition answers on real photos (../shared/faces).

One photo of each identity is enrolled in both; every other photo is a query. Same people
in the same order, scores within 1e-4, with pgvector scanning exactly and through HNSW.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from facebank.index import GalleryIndex
from facebank.index.pgvector_index import PgVectorIndex
from facebank.pipeline.pipeline import FacePipeline

pytestmark = pytest.mark.vector

Gallery = tuple[NDArray[np.int64], NDArray[np.float32], list[int], NDArray[np.float32]]


def _embedding(pipeline: FacePipeline, photo: Path) -> NDArray[np.float32]:
    _, faces = pipeline.analyze(photo.read_bytes(), max_faces=1)
    assert faces, f"no face found in {photo}"
    return faces[0].embedding


@pytest.fixture(scope="module")
def real_gallery(face_pipeline: FacePipeline, people_photos: dict[str, list[Path]]) -> Gallery:
    """(enrolled person ids, their vectors, each query's true person, query vectors)."""
    enrolled_people, enrolled, truth, queries = [], [], [], []
    for person, photos in enumerate(people_photos.values(), start=1):
        enrolled_people.append(person)
        enrolled.append(_embedding(face_pipeline, photos[0]))
        for photo in photos[1:]:
            truth.append(person)
            queries.append(_embedding(face_pipeline, photo))
    return (
        np.array(enrolled_people, dtype=np.int64),
        np.stack(enrolled).astype(np.float32),
        truth,
        np.stack(queries).astype(np.float32),
    )


@pytest.mark.parametrize("ann_threshold", [2, 1_000_000], ids=["hnsw", "exact"])
def test_same_answers_as_faiss(
    request: pytest.FixtureRequest, real_gallery: Gallery, ann_threshold: int
) -> None:
    # HNSW in a database whose planner walks the graph even on 18 rows (tests/index/conftest.py)
    vector_url: str = request.getfixturevalue(
        "hnsw_vector_url" if ann_threshold == 2 else "vector_url"
    )
    people, enrolled, truth, queries = real_gallery
    face_ids = people * 10
    faiss_index = GalleryIndex(enrolled.shape[1], "m")
    faiss_index.add(face_ids, people, enrolled)
    table = f"test_{secrets.token_hex(6)}"
    pg = PgVectorIndex(vector_url, enrolled.shape[1], "m", table=table, ann_threshold=ann_threshold)
    pg.add(face_ids, people, enrolled)
    assert pg.kind == ("hnsw" if ann_threshold == 2 else "flat")
    want, got = faiss_index.search(queries, 5), pg.search(queries, 5)
    for w, g in zip(want, got, strict=True):
        assert [h.person_id for h in g] == [h.person_id for h in w]
        np.testing.assert_allclose([h.score for h in g], [h.score for h in w], atol=1e-4)
    # The answers are recognition, not noise: most second photos find their own person.
    right = sum(w[0].person_id == t for w, t in zip(want, truth, strict=True))
    assert right >= 0.8 * len(truth)
    pg.close()

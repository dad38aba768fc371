"""Deterministic test data for the index: random unit vectors and a brute-force oracle."""

from __future__ import annotations

from collections.abc import Callable, Collection

import numpy as np
from numpy.typing import NDArray

from facebank.index import GalleryIndex, PersonHit
from facebank.index.protocol import VectorIndex

# Makes an empty index of (dim, model_id): GalleryIndex, or a backend from conftest's new_index.
IndexFactory = Callable[[int, str], VectorIndex]


def unit_vectors(n: int, dim: int, seed: int) -> NDArray[np.float32]:
    x = np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def build(
    n_people: int,
    faces_each: int,
    dim: int,
    seed: int = 0,
    model_id: str = "test-model",
    make: IndexFactory = GalleryIndex,
) -> tuple[VectorIndex, NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
    """Index with face ids 1000.. and person ids 1..n_people, `faces_each` faces each."""
    face_ids = np.arange(1000, 1000 + n_people * faces_each, dtype=np.int64)
    person_ids = np.repeat(np.arange(1, n_people + 1, dtype=np.int64), faces_each)
    vectors = unit_vectors(face_ids.size, dim, seed)
    index = make(dim, model_id)
    index.add(face_ids, person_ids, vectors)
    return index, face_ids, person_ids, vectors


def brute_force(
    query: NDArray[np.float32],
    face_ids: NDArray[np.int64],
    person_ids: NDArray[np.int64],
    vectors: NDArray[np.float32],
    top_k: int,
    allowed: Collection[int] | None = None,
) -> list[PersonHit]:
    """Exact per-person answer computed the slow, obvious way."""
    scores = vectors @ query
    best: dict[int, tuple[float, int]] = {}
    for fid, pid, score in zip(
        face_ids.tolist(), person_ids.tolist(), scores.tolist(), strict=True
    ):
        if allowed is not None and pid not in allowed:
            continue
        if pid not in best or score > best[pid][0]:
            best[pid] = (score, fid)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:top_k]
    return [PersonHit(person_id=p, face_id=f, score=s) for p, (s, f) in ranked]


def assert_same_hits(got: list[PersonHit], want: list[PersonHit]) -> None:
    assert [h.person_id for h in got] == [h.person_id for h in want]
    assert [h.face_id for h in got] == [h.face_id for h in want]
    np.testing.assert_allclose([h.score for h in got], [h.score for h in want], atol=1e-5)

"""What only the pgvector backend does: HNSW from a size on, a table shared between
processes, rebuild in one transaction, and HNSW recall against FAISS's exact answers."""

from __future__ import annotations

import secrets

import numpy as np
import pytest

from facebank.index import GalleryIndex
from facebank.index.pgvector_index import PgVectorIndex

from .helpers import assert_same_hits, build, unit_vectors

pytestmark = pytest.mark.vector
DIM = 64


def _table() -> str:
    return f"test_{secrets.token_hex(6)}"


def test_hnsw_is_built_at_the_threshold(vector_url: str) -> None:
    index = PgVectorIndex(vector_url, DIM, "m", table=_table(), ann_threshold=50)
    index.add(np.arange(49), np.arange(49), unit_vectors(49, DIM, 1))
    assert index.kind == "flat"
    index.add([49], [49], unit_vectors(1, DIM, 2))
    assert index.kind == "hnsw"
    index.remove(np.arange(40))
    assert index.kind == "hnsw"  # kept: pgvector maintains it, rebuilding is slow
    index.close()


def test_two_processes_share_one_table(vector_url: str) -> None:
    # Two workers (or machines) pointed at the same server see each other's writes at once.
    table = _table()
    one = PgVectorIndex(vector_url, DIM, "m", table=table)
    two = PgVectorIndex(vector_url, DIM, "m", table=table)
    vec = unit_vectors(1, DIM, 3)
    one.add([7], [70], vec)
    assert two.search(vec, 1)[0][0].person_id == 70
    assert two.remove([7]) == 1
    assert one.size == 0
    one.close()
    two.close()


def test_rebuild_replaces_everything(vector_url: str) -> None:
    index = PgVectorIndex(vector_url, DIM, "m", table=_table())
    index.add(np.arange(10), np.arange(10), unit_vectors(10, DIM, 4))
    fresh = unit_vectors(6, DIM, 5)
    batches = [(np.arange(100, 103), np.array([1, 1, 2]), fresh[:3])]
    batches.append((np.arange(103, 106), np.array([3, 3, 3]), fresh[3:]))
    index.rebuild(iter(batches))
    assert index.face_ids().tolist() == list(range(100, 106))
    assert index.person_count == 3
    bad = [(np.array([200]), np.array([1]), np.zeros((1, DIM), np.float32))]
    with pytest.raises(ValueError, match="zero vector"):
        index.rebuild(iter(batches[:1] + bad))
    assert index.face_ids().tolist() == list(range(100, 106))  # the failed rebuild left nothing
    index.close()


def test_hnsw_recall_against_faiss(hnsw_vector_url: str) -> None:
    # 2,000 people x 2 faces; queries are noisy copies of gallery faces (a second photo of
    # someone), answered by HNSW at the default ef_search and by exact FAISS.
    faiss_index, face_ids, _, vectors = build(2000, 2, DIM, seed=6)
    index = PgVectorIndex(hnsw_vector_url, DIM, "m", table=_table(), ann_threshold=2)
    index.add(face_ids, np.repeat(np.arange(1, 2001), 2), vectors)
    assert index.kind == "hnsw"
    picked = np.random.default_rng(7).choice(face_ids.size, 100, replace=False)
    queries = vectors[picked] + 0.03 * unit_vectors(100, DIM, 8)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    want = faiss_index.search(queries, 5)
    got = index.search(queries, 5)
    same_top1 = sum(g[0].person_id == w[0].person_id for g, w in zip(got, want, strict=True))
    assert same_top1 >= 98
    # Whatever HNSW picks is scored exactly: a person in both answers has the same score.
    for g, w in zip(got, want, strict=True):
        scores = {h.person_id: h.score for h in w}
        for hit in g:
            if hit.person_id in scores:
                assert hit.score == pytest.approx(scores[hit.person_id], abs=1e-5)
    index.close()


def test_exact_mode_equals_faiss(vector_url: str) -> None:
    faiss_index, face_ids, person_ids, vectors = build(1500, 3, DIM, seed=9)
    index = PgVectorIndex(vector_url, DIM, "m", table=_table())
    index.add(face_ids, person_ids, vectors)
    assert index.kind == "flat"
    assert index.checksum() == faiss_index.checksum()
    queries = unit_vectors(30, DIM, 10)
    for got, want in zip(index.search(queries, 10), faiss_index.search(queries, 10), strict=True):
        assert_same_hits(got, want)
    assert isinstance(faiss_index, GalleryIndex)
    index.close()

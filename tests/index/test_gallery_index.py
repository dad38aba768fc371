"""Add / remove / replace / validation / person_scores."""

from __future__ import annotations

import numpy as np
import pytest

from .helpers import IndexFactory, build, unit_vectors

DIM = 32


def test_empty_index(new_index: IndexFactory) -> None:
    index = new_index(DIM, "m")
    assert (index.size, index.person_count, index.dim, index.model_id) == (0, 0, DIM, "m")
    assert index.face_ids().tolist() == []
    assert index.search(unit_vectors(2, DIM, 1), top_k=5) == [[], []]
    assert index.person_scores(unit_vectors(1, DIM, 1)[0], 7) is None
    assert index.remove([1, 2]) == 0
    assert index.remove_person(1) == 0


def test_add_and_search_finds_self(new_index: IndexFactory) -> None:
    index, face_ids, person_ids, vectors = build(50, 3, DIM, make=new_index)
    assert index.size == 150
    assert index.person_count == 50
    assert index.face_ids().tolist() == face_ids.tolist()
    hits = index.search(vectors[[10, 77]], top_k=1)
    assert [h[0].face_id for h in hits] == [face_ids[10], face_ids[77]]
    assert [h[0].person_id for h in hits] == [person_ids[10], person_ids[77]]
    assert hits[0][0].score == pytest.approx(1.0, abs=1e-5)


def test_face_ids_sorted_whatever_the_add_order(new_index: IndexFactory) -> None:
    index = new_index(DIM, "m")
    index.add(np.array([30, 10, 20]), np.array([3, 1, 2]), unit_vectors(3, DIM, 0))
    index.add(np.array([15, 5]), np.array([1, 1]), unit_vectors(2, DIM, 1))
    assert index.face_ids().tolist() == [5, 10, 15, 20, 30]
    assert index.person_face_ids(1).tolist() == [5, 10, 15]
    # Vectors stayed attached to the ids they were given with.
    vec = unit_vectors(3, DIM, 0)
    assert index.search(vec[0:1], 1)[0][0].face_id == 30
    assert index.search(vec[2:3], 1)[0][0].face_id == 20


def test_remove_faces_and_person(new_index: IndexFactory) -> None:
    index, face_ids, _, vectors = build(10, 4, DIM, make=new_index)
    assert index.remove([face_ids[0], face_ids[1], 999_999]) == 2
    assert index.remove([face_ids[0]]) == 0  # already gone
    assert index.size == 38
    assert face_ids[0] not in index.face_ids()
    assert index.search(vectors[0:1], 1)[0][0].face_id != face_ids[0]
    assert index.remove_person(1) == 2  # person 1 had 4 faces, 2 removed above
    assert index.remove_person(1) == 0
    assert index.person_count == 9
    assert index.size == 36
    hits = index.search(vectors[:4], top_k=10)
    assert all(h.person_id != 1 for row in hits for h in row)


def test_readd_replaces_vector_and_person(new_index: IndexFactory) -> None:
    index, face_ids, _, vectors = build(10, 2, DIM, make=new_index)
    new_vec = unit_vectors(1, DIM, 99)
    index.add(face_ids[:1], np.array([42]), new_vec)
    assert index.size == 20  # replaced, not duplicated
    assert index.person_count == 11  # person 1 lost a face; person 42 is new
    top = index.search(new_vec, 1)[0][0]
    assert (top.face_id, top.person_id) == (face_ids[0], 42)
    assert top.score == pytest.approx(1.0, abs=1e-5)
    assert index.person_face_ids(1).tolist() == [face_ids[1]]
    # The old vector no longer matches face 0 exactly.
    old = index.search(vectors[:1], 20)[0]
    assert all(h.face_id != face_ids[0] or h.score < 0.99 for h in old)


def test_vectors_are_normalised(new_index: IndexFactory) -> None:
    index = new_index(DIM, "m")
    vec = unit_vectors(1, DIM, 3)
    index.add([1], [1], vec * 7.5)
    hit = index.search(vec * 0.1, 1)[0][0]
    assert hit.score == pytest.approx(1.0, abs=1e-5)
    assert index.person_scores(vec[0] * 3, 1) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    ("face_ids", "person_ids", "vectors"),
    [
        ([1, 2], [1, 1], np.ones((2, DIM + 1), np.float32)),  # wrong dim
        ([1, 2], [1, 1], np.ones((2 * DIM,), np.float32)),  # 1-D
        ([1, 2], [1], np.ones((2, DIM), np.float32)),  # length mismatch
        ([1, 2, 3], [1, 1, 1], np.ones((2, DIM), np.float32)),
        ([1, 1], [1, 1], np.ones((2, DIM), np.float32)),  # duplicate face id
        ([-1], [1], np.ones((1, DIM), np.float32)),  # -1 is faiss' "no result"
        ([1.5], [1], np.ones((1, DIM), np.float32)),  # float id
        ([1], [1], np.zeros((1, DIM), np.float32)),  # zero vector
        ([1], [1], np.full((1, DIM), np.nan, np.float32)),
        ([[1]], [1], np.ones((1, DIM), np.float32)),
    ],
)
def test_add_validates(
    new_index: IndexFactory, face_ids: object, person_ids: object, vectors: object
) -> None:
    index, *_ = build(3, 2, DIM, make=new_index)
    before = index.face_ids()
    with pytest.raises(ValueError, match=r"must|contain"):
        index.add(face_ids, person_ids, vectors)  # type: ignore[arg-type]
    assert index.face_ids().tolist() == before.tolist()  # untouched


def test_search_validates(new_index: IndexFactory) -> None:
    index, *_ = build(3, 2, DIM, make=new_index)
    with pytest.raises(ValueError, match="shape"):
        index.search(np.ones((1, DIM + 1), np.float32), 1)
    with pytest.raises(ValueError, match="shape"):
        index.search(np.ones(DIM, np.float32), 1)  # must be (n, dim)
    with pytest.raises(ValueError, match="top_k"):
        index.search(np.ones((1, DIM), np.float32), 0)
    with pytest.raises(ValueError, match="shape"):
        index.person_scores(np.ones(DIM + 1, np.float32), 1)
    with pytest.raises(ValueError, match="dim must be positive"):
        new_index(0, "m")


def test_add_empty_batch_is_noop(new_index: IndexFactory) -> None:
    index, *_ = build(3, 2, DIM, make=new_index)
    index.add(np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, DIM), np.float32))
    assert index.size == 6


def test_person_scores_is_best_face(new_index: IndexFactory) -> None:
    index, _, person_ids, vectors = build(20, 5, DIM, make=new_index)
    query = unit_vectors(1, DIM, 123)[0]
    for person in (1, 7, 20):
        mine = vectors[person_ids == person]
        assert index.person_scores(query, person) == pytest.approx(
            float(np.max(mine @ query)), abs=1e-5
        )
    assert index.person_scores(query, 999) is None
    # (1, dim) accepted too; and the score of a face against its own person is 1.
    assert index.person_scores(vectors[3:4], int(person_ids[3])) == pytest.approx(1.0, abs=1e-5)

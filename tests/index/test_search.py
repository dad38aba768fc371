"""Per-person aggregation, widening and roster restriction, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from facebank.index import gallery_index

from .helpers import IndexFactory, assert_same_hits, brute_force, build, unit_vectors

DIM = 32


def test_results_are_distinct_people_sorted(new_index: IndexFactory) -> None:
    index, *_ = build(100, 5, DIM, make=new_index)
    for row in index.search(unit_vectors(5, DIM, 7), top_k=10):
        people = [h.person_id for h in row]
        assert len(row) == 10
        assert len(set(people)) == 10
        scores = [h.score for h in row]
        assert scores == sorted(scores, reverse=True)


def test_matches_brute_force(new_index: IndexFactory) -> None:
    index, face_ids, person_ids, vectors = build(200, 4, DIM, seed=1, make=new_index)
    queries = unit_vectors(20, DIM, 2)
    for top_k in (1, 5, 50):
        for q, got in zip(queries, index.search(queries, top_k), strict=True):
            assert_same_hits(got, brute_force(q, face_ids, person_ids, vectors, top_k))


def test_crowded_person_does_not_hide_others(new_index: IndexFactory) -> None:
    # Person 1 has 500 faces all close to the query; they fill any fixed-size face
    # window, so only widening can reach the other people.
    query = unit_vectors(1, DIM, 5)
    noise = unit_vectors(500, DIM, 6) * 0.05
    crowd = query + noise
    crowd /= np.linalg.norm(crowd, axis=1, keepdims=True)
    others = unit_vectors(30, DIM, 8)
    vectors = np.vstack([crowd, others]).astype(np.float32)
    face_ids = np.arange(vectors.shape[0], dtype=np.int64)
    person_ids = np.concatenate([np.ones(500, np.int64), np.arange(2, 32, dtype=np.int64)])
    index = new_index(DIM, "m")
    index.add(face_ids, person_ids, vectors)
    got = index.search(query, top_k=5)[0]
    assert len(got) == 5
    assert got[0].person_id == 1
    assert_same_hits(got, brute_force(query[0], face_ids, person_ids, vectors, 5))


def test_top_k_beyond_people_returns_all_people(new_index: IndexFactory) -> None:
    index, *_ = build(7, 3, DIM, make=new_index)
    row = index.search(unit_vectors(1, DIM, 1), top_k=100)[0]
    assert sorted(h.person_id for h in row) == list(range(1, 8))


def test_widening_each_query_separately(
    new_index: IndexFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force a tiny first window so the batch takes several rounds, with queries
    # finishing in different rounds.
    monkeypatch.setattr(gallery_index, "MIN_FACES", 1)
    monkeypatch.setattr(gallery_index, "FACES_PER_PERSON", 1)
    monkeypatch.setattr(gallery_index, "WIDEN_FACTOR", 2)
    index, face_ids, person_ids, vectors = build(40, 6, DIM, seed=3, make=new_index)
    queries = np.vstack([vectors[:3], unit_vectors(3, DIM, 4)])
    for q, got in zip(queries, index.search(queries, 8), strict=True):
        assert_same_hits(got, brute_force(q, face_ids, person_ids, vectors, 8))


@pytest.mark.parametrize("roster_size", [1, 3, 25, 150])
def test_roster_restriction_is_exact(new_index: IndexFactory, roster_size: int) -> None:
    index, face_ids, person_ids, vectors = build(300, 3, DIM, seed=9, make=new_index)
    roster = set(
        np.random.default_rng(roster_size)
        .choice(np.arange(1, 301), roster_size, replace=False)
        .tolist()
    )
    queries = unit_vectors(10, DIM, 10)
    for q, got in zip(queries, index.search(queries, 5, allowed_people=roster), strict=True):
        assert {h.person_id for h in got} <= roster
        assert_same_hits(got, brute_force(q, face_ids, person_ids, vectors, 5, roster))


def test_roster_outside_top_results_still_found(new_index: IndexFactory) -> None:
    # The roster person's face is the query's *worst* match: a filter applied after
    # a fixed-size search would miss it.
    index, _, person_ids, vectors = build(500, 2, DIM, seed=11, make=new_index)
    query = unit_vectors(1, DIM, 12)
    worst = int(person_ids[np.argmin(vectors @ query[0])])
    got = index.search(query, top_k=3, allowed_people=[worst])[0]
    assert [h.person_id for h in got] == [worst]


def test_roster_edge_cases(new_index: IndexFactory) -> None:
    index, *_ = build(10, 2, DIM, make=new_index)
    q = unit_vectors(2, DIM, 1)
    assert index.search(q, 5, allowed_people=[]) == [[], []]
    assert index.search(q, 5, allowed_people={999, 1000}) == [[], []]
    got = index.search(q, 5, allowed_people=[3, 3, 999])  # duplicates, unknowns ignored
    assert [[h.person_id for h in row] for row in got] == [[3], [3]]

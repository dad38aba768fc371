"""UnknownVectors: re-adding an id replaces its vector, removing it drops it, and adding new
ids never needs a removal pass."""

from __future__ import annotations

import numpy as np

from facebank.index.unknown_vectors import UnknownVectors


def _unit(*values: float) -> np.ndarray:
    v = np.array([values], np.float32)
    return v / np.linalg.norm(v)


def test_readding_an_id_replaces_its_vector() -> None:
    vectors = UnknownVectors(3)
    vectors.add(np.array([1, 2]), np.concatenate([_unit(1, 0, 0), _unit(0, 1, 0)]))
    vectors.add(np.array([1]), _unit(0, 0, 1))
    assert vectors.size == 2
    ids, scores = vectors.neighbours(_unit(0, 0, 1)[0], 5, 0.5)
    assert ids.tolist() == [1] and scores[0] > 0.99
    assert vectors.neighbours(_unit(1, 0, 0)[0], 5, 0.5)[0].tolist() == []


def test_removed_ids_are_gone_and_can_come_back() -> None:
    vectors = UnknownVectors(3)
    vectors.add(np.array([5, 6]), np.concatenate([_unit(1, 0, 0), _unit(1, 0.1, 0)]))
    vectors.remove(np.array([5]))
    assert vectors.neighbours(_unit(1, 0, 0)[0], 5, 0.5)[0].tolist() == [6]
    vectors.add(np.array([5]), _unit(1, 0, 0))
    assert sorted(vectors.neighbours(_unit(1, 0, 0)[0], 5, 0.5)[0].tolist()) == [5, 6]
    assert (vectors.size, vectors.max_id) == (2, 6)

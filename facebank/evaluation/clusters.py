"""Unknown faces clustered one at a time, exactly as the unknowns service does it.

Each face asks UnknownVectors for its neighbours (`rule.neighbours` nearest with cosine ≥
`rule.link`), looks up their current clusters and sizes, lets unknown_linker.assign decide,
applies the join or merge, and is stored. Only the bookkeeping the database does for the
service (which cluster each face is in) lives here, in two dicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from facebank.index.unknown_linker import Assignment, LinkRule, assign
from facebank.index.unknown_vectors import UnknownVectors


@dataclass(frozen=True)
class UnknownFace:
    label: str | None  # the identity, or None for a face of no known identity (a distractor)
    name: str
    embedding: NDArray[np.float32]


class IncrementalClusterer:
    def __init__(self, rule: LinkRule, dim: int) -> None:
        self._rule = rule
        self._vectors = UnknownVectors(dim)
        self._cluster_of: dict[int, int] = {}
        self._members: dict[int, list[int]] = {}
        self._next_cluster = 1

    def add(self, face_id: int, vector: NDArray[np.float32]) -> Assignment:
        """Cluster one new face, then store it (its own vector is not its neighbour)."""
        ids, _ = self._vectors.neighbours(vector, self._rule.neighbours, self._rule.link)
        clusters = [self._cluster_of[int(i)] for i in ids]
        sizes = {c: len(self._members[c]) for c in set(clusters)}
        decision = assign(self._rule, clusters, sizes)
        target = self._apply(decision)
        self._members[target].append(face_id)
        self._cluster_of[face_id] = target
        self._vectors.add(np.array([face_id], np.int64), vector.reshape(1, -1))
        return decision

    def _apply(self, decision: Assignment) -> int:
        if decision.cluster_id is None:
            cluster = self._next_cluster
            self._next_cluster += 1
            self._members[cluster] = []
            return cluster
        for other in decision.merged:
            for face in self._members.pop(other):
                self._cluster_of[face] = decision.cluster_id
                self._members[decision.cluster_id].append(face)
        return decision.cluster_id

    def cluster_of(self, face_id: int) -> int:
        return self._cluster_of[face_id]


def cluster_in_order(
    rule: LinkRule, faces: Sequence[UnknownFace], order: Sequence[int]
) -> list[int]:
    """Each face's final cluster, the faces arriving in `order` (indices into `faces`)."""
    clusterer = IncrementalClusterer(rule, faces[0].embedding.shape[0])
    for index in order:
        clusterer.add(index, np.asarray(faces[index].embedding, np.float32))
    return [clusterer.cluster_of(i) for i in range(len(faces))]


def arrival_orders(n: int, orders: int, seed: int = 0) -> list[list[int]]:
    """`orders` seeded random permutations of 0..n-1 (the same for every rule tried)."""
    rng = np.random.default_rng(seed)
    return [[int(i) for i in rng.permutation(n)] for _ in range(orders)]

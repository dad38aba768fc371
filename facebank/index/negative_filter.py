"""Applying "not this person" labels to search results (pure numpy, no I/O).

A hit for person P is dropped when the query is a near-duplicate of a face marked "not P":
its cosine to any of P's negatives is at least `negative_match`. The threshold separates
re-encoded, resized or slightly cropped copies of one photo (cosine ≥ 0.92 for 99% of them
on ../shared/faces) from different photos of one person (at most 0.85): a label blocks the
photo it was made from, not everyone who looks like it (docs/negatives.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from facebank.index.people import PersonHit

# The most extra people one search asks for: beyond it, a query near-duplicating negatives
# of more people than this may come back with fewer than top_k (never with a wrong one).
MAX_EXTRA_HITS = 1000


@dataclass(frozen=True)
class NegativeSet:
    """One model's negatives grouped by person: person id -> (n, dim) unit vectors."""

    by_person: Mapping[int, NDArray[np.float32]]

    @classmethod
    def build(cls, person_ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> NegativeSet:
        grouped: dict[int, NDArray[np.float32]] = {}
        for person in np.unique(person_ids):
            grouped[int(person)] = np.ascontiguousarray(vectors[person_ids == person])
        return cls(grouped)

    @classmethod
    def empty(cls) -> NegativeSet:
        return cls({})

    def people_among(self, allowed: Collection[int] | None) -> int:
        """How many people with negatives a search limited to `allowed` can return."""
        if allowed is None:
            return len(self.by_person)
        return sum(1 for person in self.by_person if person in allowed)

    def best(self, person_id: int, query: NDArray[np.float32]) -> float | None:
        """The query's highest cosine to the person's negatives; None when they have none."""
        vectors = self.by_person.get(person_id)
        if vectors is None or vectors.size == 0:
            return None
        return float(np.max(vectors @ query))

    def rejects(self, person_id: int, query: NDArray[np.float32], negative_match: float) -> bool:
        best = self.best(person_id, query)
        return best is not None and best >= negative_match


def filter_hits(
    queries: NDArray[np.float32],
    rows: list[list[PersonHit]],
    negatives: NegativeSet,
    negative_match: float,
    top_k: int,
) -> list[list[PersonHit]]:
    """Each query's hits without the people it is marked "not", at most `top_k` of them."""
    kept = []
    for query, row in zip(queries, rows, strict=True):
        allowed = [h for h in row if not negatives.rejects(h.person_id, query, negative_match)]
        kept.append(allowed[:top_k])
    return kept


def widened_k(negatives: NegativeSet, top_k: int, allowed: Collection[int] | None) -> int:
    """How many people to ask the index for so that `top_k` remain after filtering: each
    person with negatives can be dropped at most once per query."""
    return top_k + min(negatives.people_among(allowed), MAX_EXTRA_HITS)

"""Person-side views of the face → person mapping, and per-person aggregation of hits.

The mapping itself is two aligned int64 arrays sorted by face id (16 bytes a face,
16 MB for 1M faces; a dict would be ~100 MB). Looking faces up *by person* needs the
same data ordered by person, which `PersonView` holds; it is rebuilt lazily after a
write so a batch of writes pays for one argsort, not one per write.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class PersonHit:
    person_id: int
    face_id: int  # the person's best-matching face
    score: float  # cosine similarity of that face to the query


@dataclass(frozen=True, slots=True)
class PersonView:
    order: NDArray[np.intp]  # positions into the face-sorted arrays, grouped by person
    sorted_people: NDArray[np.int64]  # person_ids[order]
    person_count: int

    @classmethod
    def build(cls, person_ids: NDArray[np.int64]) -> PersonView:
        order = np.argsort(person_ids, kind="stable")
        people = person_ids[order]
        distinct = int(np.count_nonzero(people[1:] != people[:-1])) + 1 if people.size else 0
        return cls(order=order, sorted_people=people, person_count=distinct)

    def positions(self, people: NDArray[np.int64]) -> NDArray[np.intp]:
        """Positions (into the face-sorted arrays) of every face of `people` (sorted, unique)."""
        left = np.searchsorted(self.sorted_people, people, side="left")
        right = np.searchsorted(self.sorted_people, people, side="right")
        lengths = right - left
        total = int(lengths.sum())
        if total == 0:
            return np.empty(0, dtype=np.intp)
        # Concatenate the ranges [left_i, right_i) without a Python loop: output slot j of
        # range i maps to left_i + (j - offset_i).
        offsets = np.cumsum(lengths) - lengths
        starts = np.repeat(left - offsets, lengths)
        return self.order[starts + np.arange(total)]


def best_per_person(
    scores: NDArray[np.float32],
    face_ids: NDArray[np.int64],
    person_ids: NDArray[np.int64],
    top_k: int,
) -> list[PersonHit]:
    """Each person's best face, highest score first, at most `top_k` people.

    Inputs are one query's hits in faiss order (score descending), so a person's first
    occurrence is their best face. Ties are broken by person id for stable output.
    """
    if scores.size == 0:
        return []
    people, first = np.unique(person_ids, return_index=True)
    best_scores = scores[first]
    order = np.lexsort((people, -best_scores))[:top_k]
    return [
        PersonHit(
            person_id=int(people[i]), face_id=int(face_ids[first[i]]), score=float(best_scores[i])
        )
        for i in order
    ]

"""The duplicate check of enrollment: a new face must not be someone else already enrolled.

One definition used by every enrollment path (API, compat routes, bulk import). A face
scoring at least `threshold` against a *different* person's face is refused naming that
person, unless the caller says the duplicate is intended. The threshold sits far above the
highest different-person score measured on ../shared/faces (README, "Duplicate check").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from facebank.errors import DuplicateFaceError
from facebank.index.people import PersonHit
from facebank.store.people import PeopleRepository

# The best two people: when the best is the person being enrolled, the next one decides.
_TOP_K = 2


class FaceSearch(Protocol):
    def search(self, queries: NDArray[np.float32], top_k: int) -> list[list[PersonHit]]: ...


class DuplicateCheck:
    def __init__(self, people: PeopleRepository, threshold: float) -> None:
        self._people = people
        self._threshold = threshold

    def check(
        self, index: FaceSearch, embeddings: Sequence[NDArray[np.float32]], person_id: int | None
    ) -> None:
        """DuplicateFaceError for the first face matching another person than `person_id`
        (None: a person not created yet) at or above the threshold; `photo_index` says which."""
        if not embeddings:
            return
        queries = np.stack(embeddings).astype(np.float32)
        for position, hits in enumerate(index.search(queries, _TOP_K)):
            other = next((h for h in hits if h.person_id != person_id), None)
            if other is not None and other.score >= self._threshold:
                duplicate = self._duplicate(other, position)
                if duplicate is not None:
                    raise duplicate

    def _duplicate(self, hit: PersonHit, position: int) -> DuplicateFaceError | None:
        """None when the person is gone: deleted on another machine (or an enroll undone)
        and still in this index until it follows the change log, as recognition skips it."""
        people = self._people.get_many({hit.person_id})
        if hit.person_id not in people:
            return None
        person = people[hit.person_id]
        return DuplicateFaceError(
            f"this face matches {person.name} (person {person.id}) with score "
            f"{hit.score:.2f}, at or above the duplicate threshold {self._threshold:g}; "
            "send allow_duplicate=true if this is intended",
            person_id=person.id,
            person_name=person.name,
            face_id=hit.face_id,
            score=round(hit.score, 4),
            threshold=self._threshold,
            photo_index=position,
        )

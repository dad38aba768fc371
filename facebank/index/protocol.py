"""What the services need from a gallery index, whichever engine holds the vectors.

`GalleryIndex` (FAISS, in process) and `PgVectorIndex` (PostgreSQL + pgvector) both
answer it; one parametrised test suite (tests/index/test_backends.py) holds them to it.
The SQL database stays the source of truth: `face_ids()`/`checksum()` are compared with it
and the services repair the index from it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from facebank.index.people import PersonHit


class VectorIndex(Protocol):
    @property
    def dim(self) -> int: ...

    @property
    def model_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def person_count(self) -> int: ...

    def face_ids(self) -> NDArray[np.int64]:
        """All face ids, ascending."""
        ...

    def checksum(self) -> str:
        """`ids_checksum` of `face_ids()`, for comparing with the database."""
        ...

    def person_face_ids(self, person_id: int) -> NDArray[np.int64]: ...

    def entries(
        self, face_ids: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
        """The given faces that are indexed: (face ids ascending, person ids, vectors)."""
        ...

    def add(self, face_ids: ArrayLike, person_ids: ArrayLike, vectors: ArrayLike) -> None:
        """Add faces; a face id already present is replaced. All or nothing."""
        ...

    def remove(self, face_ids: ArrayLike) -> int: ...

    def remove_person(self, person_id: int) -> int: ...

    def search(
        self, queries: ArrayLike, top_k: int, allowed_people: Collection[int] | None = None
    ) -> list[list[PersonHit]]:
        """Per query, the `top_k` best distinct people, best first, scored by exact cosine."""
        ...

    def person_scores(self, query: ArrayLike, person_id: int) -> float | None: ...

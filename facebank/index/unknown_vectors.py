"""The kept unknown faces' embeddings, searched for a new unknown's neighbours.

Ids only, no cluster ids: clusters merge and faces move, so the database says which cluster
a neighbour is in now; this holds what only memory makes fast (the vectors). Thread-safe.
"""

from __future__ import annotations

import threading

import faiss
import numpy as np
from numpy.typing import NDArray

from facebank.index import _validate

SEARCH_OMP_THREADS = 1  # one query at a time: see gallery_index.SEARCH_OMP_THREADS


class UnknownVectors:
    def __init__(self, dim: int) -> None:
        self._dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._lock = threading.Lock()
        self._max_id = 0
        # The stored ids: faiss's remove_ids scans every vector (10 ms at 100,000), so it is
        # called only for ids that are really there, not before every add.
        self._present: set[int] = set()

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def max_id(self) -> int:
        """The highest id ever added: a follower reads newer rows after it."""
        return self._max_id

    def add(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        ids = _validate.face_id_array(ids)
        vectors = _validate.unit_vectors(vectors, self._dim)
        if ids.shape[0] != vectors.shape[0]:
            raise ValueError(f"{ids.shape[0]} ids for {vectors.shape[0]} vectors")
        if not ids.size:
            return
        with self._lock:
            again = [i for i in ids.tolist() if i in self._present]
            if again:  # re-adding an id replaces it
                self._index.remove_ids(faiss.IDSelectorBatch(np.array(again, np.int64)))
            self._index.add_with_ids(vectors, ids)
            self._present.update(ids.tolist())
            self._max_id = max(self._max_id, int(ids.max()))

    def remove(self, ids: NDArray[np.int64]) -> None:
        ids = _validate.face_id_array(ids)
        with self._lock:
            self._index.remove_ids(faiss.IDSelectorBatch(ids))
            self._present.difference_update(ids.tolist())

    def neighbours(
        self, vector: NDArray[np.float32], k: int, min_score: float
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Up to `k` stored faces with cosine ≥ `min_score` to `vector`, best first."""
        query = _validate.unit_vectors(vector.reshape(1, -1), self._dim, "vector")
        with self._lock:
            if not self._index.ntotal:
                return np.empty(0, np.int64), np.empty(0, np.float32)
            faiss.omp_set_num_threads(SEARCH_OMP_THREADS)
            scores, ids = self._index.search(query, min(k, int(self._index.ntotal)))
        keep = (ids[0] >= 0) & (scores[0] >= min_score)
        return ids[0][keep], scores[0][keep]

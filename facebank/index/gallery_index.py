"""Exact cosine search over enrolled faces, answered per person.

The index is derived data: the database is the source of truth and the services layer
keeps this in step with it (count + `checksum()` against the database's face ids).
Writes take the exclusive lock; searches share the lock and run in parallel, since
faiss releases the GIL while it scans.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path

import faiss
import numpy as np
from numpy.typing import ArrayLike, NDArray

from facebank.index import _validate
from facebank.index.checksum import ids_checksum
from facebank.index.people import PersonHit, PersonView, best_per_person
from facebank.index.rwlock import RWLock

# First search asks for this many faces per wanted person (at least MIN_FACES), then
# widens by WIDEN_FACTOR until top_k distinct people are seen or the index is exhausted.
# People rarely have more than a handful of photos, so one round almost always suffices.
FACES_PER_PERSON = 4
MIN_FACES = 32
WIDEN_FACTOR = 4
# A query of a few faces is far below faiss's threading break-even, and OpenMP's pool
# threads spin after each search, stealing the cores inference runs on (measured: a search
# took 0.7 ms in a server's inference thread against 0.06 ms alone). The OpenMP thread count
# belongs to the calling thread, so every search sets it: searches come from many threads.
SEARCH_OMP_THREADS = 1


class GalleryIndex:
    def __init__(self, dim: int, model_id: str) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        self._dim = dim
        self._model_id = model_id
        # IDMap2 (not IDMap) keeps id → slot, which reconstruct-by-face-id needs.
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        # face → person mapping: aligned arrays, sorted by face id, replaced (never
        # mutated in place) on each write.
        self._face_ids: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._person_ids: NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._people_view: PersonView | None = None
        self._view_lock = threading.Lock()
        self._lock = RWLock()

    # ---- properties -------------------------------------------------------------

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def size(self) -> int:
        """Number of faces."""
        with self._lock.read():
            return int(self._face_ids.size)

    @property
    def person_count(self) -> int:
        with self._lock.read():
            return self._people().person_count

    def face_ids(self) -> NDArray[np.int64]:
        """All face ids, ascending (a copy)."""
        with self._lock.read():
            return self._face_ids.copy()

    def checksum(self) -> str:
        """`ids_checksum` of `face_ids()`, for comparing with the database."""
        with self._lock.read():
            return ids_checksum(self._face_ids)

    def person_face_ids(self, person_id: int) -> NDArray[np.int64]:
        """Face ids of one person, ascending; empty if the person is not indexed."""
        with self._lock.read():
            pos = self._people().positions(np.array([person_id], dtype=np.int64))
            return np.sort(self._face_ids[pos])

    # ---- writes -----------------------------------------------------------------

    def add(self, face_ids: ArrayLike, person_ids: ArrayLike, vectors: ArrayLike) -> None:
        """Add faces; a face id already present is replaced (vector and person)."""
        raw_fids = _validate.face_id_array(face_ids)
        raw_pids = _validate.id_array(person_ids, "person_ids")
        vecs = _validate.unit_vectors(vectors, self._dim)
        if not (raw_fids.size == raw_pids.size == vecs.shape[0]):
            raise ValueError(
                f"face_ids ({raw_fids.size}), person_ids ({raw_pids.size}) and vectors "
                f"({vecs.shape[0]}) must have the same length"
            )
        if raw_fids.size == 0:
            return
        order = np.argsort(raw_fids, kind="stable")
        fids, pids = raw_fids[order], raw_pids[order]
        if np.any(fids[1:] == fids[:-1]):
            raise ValueError("face_ids contain duplicates")
        with self._lock.write():
            self._drop(fids)
            # faiss keeps its own id map, so vectors go in caller order with caller ids.
            self._index.add_with_ids(vecs, raw_fids)
            # Merge two sorted, disjoint id sets: O(n + m log n), no full re-sort.
            at = np.searchsorted(self._face_ids, fids)
            self._face_ids = np.insert(self._face_ids, at, fids)
            self._person_ids = np.insert(self._person_ids, at, pids)
            self._people_view = None

    def remove(self, face_ids: ArrayLike) -> int:
        """Remove faces by id; unknown ids are ignored. Returns how many were removed."""
        fids = np.unique(_validate.id_array(face_ids, "face_ids"))
        with self._lock.write():
            return self._drop(fids)

    def remove_person(self, person_id: int) -> int:
        """Remove every face of a person. Returns how many were removed."""
        with self._lock.write():
            pos = self._people().positions(np.array([person_id], dtype=np.int64))
            return self._drop(self._face_ids[np.sort(pos)])

    def _drop(self, sorted_fids: NDArray[np.int64]) -> int:
        """Remove the present ones of `sorted_fids`. Caller holds the write lock."""
        if sorted_fids.size == 0 or self._face_ids.size == 0:
            return 0
        at = np.searchsorted(self._face_ids, sorted_fids)
        at_clipped = np.minimum(at, self._face_ids.size - 1)
        present = self._face_ids[at_clipped] == sorted_fids
        if not present.any():
            return 0
        gone = sorted_fids[present]
        removed = int(self._index.remove_ids(faiss.IDSelectorBatch(gone)))
        if removed != gone.size:
            # Both sides are kept in step under one lock; disagreement is a bug.
            raise RuntimeError(f"faiss removed {removed} of {gone.size} faces")
        self._face_ids = np.delete(self._face_ids, at_clipped[present])
        self._person_ids = np.delete(self._person_ids, at_clipped[present])
        self._people_view = None
        return removed

    # ---- reads ------------------------------------------------------------------

    def search(
        self,
        queries: ArrayLike,
        top_k: int,
        allowed_people: Collection[int] | None = None,
    ) -> list[list[PersonHit]]:
        """For each query row, the `top_k` best-matching distinct people, best first.

        `allowed_people` restricts the answer to a roster; exact for any roster, since
        faiss itself skips faces outside it rather than filtering a truncated list.
        """
        q = _validate.unit_vectors(queries, self._dim, "queries")
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}")
        roster = None if allowed_people is None else _validate.roster_array(allowed_people)
        faiss.omp_set_num_threads(SEARCH_OMP_THREADS)
        with self._lock.read():
            params = None
            searchable = int(self._face_ids.size)
            if roster is not None:
                pos = self._people().positions(roster)
                searchable = int(pos.size)
                if searchable:
                    # `selector` must outlive the search: params holds only a raw pointer.
                    selector = faiss.IDSelectorBatch(np.ascontiguousarray(self._face_ids[pos]))
                    params = faiss.SearchParameters()
                    params.sel = selector
            if searchable == 0:
                return [[] for _ in range(q.shape[0])]
            return self._search_widening(q, top_k, searchable, params)

    def _search_widening(
        self,
        q: NDArray[np.float32],
        top_k: int,
        searchable: int,
        params: faiss.SearchParameters | None,
    ) -> list[list[PersonHit]]:
        """Caller holds the read lock."""
        results: list[list[PersonHit]] = [[] for _ in range(q.shape[0])]
        pending = np.arange(q.shape[0])
        k = min(max(FACES_PER_PERSON * top_k, MIN_FACES), searchable)
        while pending.size:
            scores, ids = self._index.search(q[pending], k, params=params)
            still: list[int] = []
            for row, qi in enumerate(pending):
                valid = ids[row] >= 0
                fids = ids[row][valid]
                pids = self._person_ids[np.searchsorted(self._face_ids, fids)]
                hits = best_per_person(scores[row][valid], fids, pids, top_k)
                # Once every searchable face was asked for, fewer people is the answer.
                if len(hits) >= top_k or k >= searchable:
                    results[qi] = hits
                else:
                    still.append(int(qi))
            pending = np.array(still, dtype=np.intp)
            k = min(k * WIDEN_FACTOR, searchable)
        return results

    def person_scores(self, query: ArrayLike, person_id: int) -> float | None:
        """Best cosine of `query` against the person's faces; None if they have none."""
        q = _validate.query_vector(query, self._dim)
        with self._lock.read():
            pos = self._people().positions(np.array([person_id], dtype=np.int64))
            if pos.size == 0:
                return None
            vecs = self._index.reconstruct_batch(np.ascontiguousarray(self._face_ids[pos]))
        return float(np.max(vecs @ q[0]))

    def _people(self) -> PersonView:
        """Person-ordered view, rebuilt on first use after a write.

        Called under the read or the write lock, so no write can race the rebuild;
        `_view_lock` only stops concurrent readers from all rebuilding it at once.
        """
        view = self._people_view
        if view is None:
            with self._view_lock:
                view = self._people_view
                if view is None:
                    view = PersonView.build(self._person_ids)
                    self._people_view = view
        return view

    # ---- snapshot support (used by facebank.index.snapshot) ----------------------

    def _write_files(self, index_path: Path, mapping_path: Path) -> tuple[int, str]:
        """Write faiss index and mapping from one consistent state; return count, checksum.

        Holds the read lock while writing, so searches go on and writes wait; writing
        straight to the file avoids a second in-memory copy of every vector.
        """
        with self._lock.read():
            faiss.write_index(self._index, str(index_path))
            with mapping_path.open("wb") as fh:
                np.save(fh, np.stack([self._face_ids, self._person_ids]), allow_pickle=False)
            return int(self._face_ids.size), ids_checksum(self._face_ids)

    @classmethod
    def _from_parts(
        cls,
        model_id: str,
        index: faiss.IndexIDMap2,
        face_ids: NDArray[np.int64],
        person_ids: NDArray[np.int64],
    ) -> GalleryIndex:
        """Wrap a loaded faiss index; the caller has checked it agrees with the mapping."""
        gallery = cls(int(index.d), model_id)
        gallery._index = index
        gallery._face_ids = np.ascontiguousarray(face_ids, dtype=np.int64)
        gallery._person_ids = np.ascontiguousarray(person_ids, dtype=np.int64)
        return gallery

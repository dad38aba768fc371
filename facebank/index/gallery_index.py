"""Cosine search over enrolled faces, answered per person.

Small galleries are scanned exactly. From `sketch_threshold` faces on, a binary sketch of
every face (facebank.index.sketch) picks a few hundred candidates per query and only those
are scored, exactly, from the same stored vectors: scores stay exact cosines, and a
roster search stays exact (it scores every face of the roster).

The index is derived data: the database is the source of truth and the services layer
keeps this in step with it (count + `checksum()` against the database's face ids).
Writes take the exclusive lock; searches share the lock and run in parallel, since
faiss releases the GIL while it scans.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import cast

import faiss
import numpy as np
from numpy.typing import ArrayLike, NDArray

from facebank.index import _validate
from facebank.index.checksum import ids_checksum
from facebank.index.people import PersonHit, PersonView, best_per_person
from facebank.index.rwlock import RWLock
from facebank.index.sketch import SKETCH_CANDIDATES, SKETCH_THRESHOLD, Sketch

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
# With the sketch on, a roster of at most this many faces is answered by gathering and
# scoring its vectors (a 100 MB copy at most) instead of a full scan skipping the others.
ROSTER_GATHER_MAX = 50_000

_SearchFn = Callable[
    [NDArray[np.float32], int, faiss.SearchParameters | None],
    tuple[NDArray[np.float32], NDArray[np.int64]],
]


class GalleryIndex:
    def __init__(self, dim: int, model_id: str, sketch_threshold: int = SKETCH_THRESHOLD) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim}")
        if sketch_threshold < 2:
            raise ValueError(f"sketch_threshold must be at least 2, got {sketch_threshold}")
        self._dim = dim
        self._model_id = model_id
        self._sketch_threshold = sketch_threshold
        # Present from sketch_threshold faces on; dropped below half of it, so a gallery
        # hovering at the threshold does not rebuild it on every enroll and delete.
        self._sketch: Sketch | None = None
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
    def kind(self) -> str:
        """ "flat" (every face scored) or "sketch" (candidates from the sketch, scored)."""
        with self._lock.read():
            return "flat" if self._sketch is None else "sketch"

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

    def entries(
        self, face_ids: ArrayLike
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
        """The given faces that are indexed: (face ids ascending, person ids, vectors)."""
        wanted = np.unique(_validate.id_array(face_ids, "face_ids"))
        with self._lock.read():
            if wanted.size == 0 or self._face_ids.size == 0:
                return wanted[:0], wanted[:0], np.empty((0, self._dim), dtype=np.float32)
            at = np.minimum(np.searchsorted(self._face_ids, wanted), self._face_ids.size - 1)
            present = self._face_ids[at] == wanted
            fids, pids = wanted[present], self._person_ids[at[present]]
            if fids.size == 0:
                return fids, pids, np.empty((0, self._dim), dtype=np.float32)
            vectors = self._index.reconstruct_batch(np.ascontiguousarray(fids))
            return fids, pids, vectors

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
            if self._sketch is not None:
                self._sketch.add(vecs)  # same order: slot i of the sketch is slot i here
            # Merge two sorted, disjoint id sets: O(n + m log n), no full re-sort.
            at = np.searchsorted(self._face_ids, fids)
            self._face_ids = np.insert(self._face_ids, at, fids)
            self._person_ids = np.insert(self._person_ids, at, pids)
            self._people_view = None
            self._fit_sketch()

    def _fit_sketch(self) -> None:
        """Build or drop the sketch as the size calls for. Caller holds the write lock."""
        size = int(self._face_ids.size)
        if self._sketch is None and size >= self._sketch_threshold:
            sketch = Sketch(self._dim)
            sketch.add(self._stored_vectors())
            self._sketch = sketch
        elif self._sketch is not None and size < self._sketch_threshold // 2:
            self._sketch = None

    def _stored_vectors(self) -> NDArray[np.float32]:
        """A view of the flat index's vectors, in slot order; valid until the next write."""
        flat = cast(faiss.IndexFlatIP, faiss.downcast_index(self._index.index))
        return faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * self._dim).reshape(-1, self._dim)

    def _stored_ids(self) -> NDArray[np.int64]:
        """A view of the face id of each slot; valid until the next write."""
        id_map = self._index.id_map
        return faiss.rev_swig_ptr(id_map.data(), id_map.size())

    def remove(self, face_ids: ArrayLike) -> int:
        """Remove faces by id; unknown ids are ignored. Returns how many were removed."""
        fids = np.unique(_validate.id_array(face_ids, "face_ids"))
        with self._lock.write():
            removed = self._drop(fids)
            self._fit_sketch()
            return removed

    def remove_person(self, person_id: int) -> int:
        """Remove every face of a person. Returns how many were removed."""
        with self._lock.write():
            pos = self._people().positions(np.array([person_id], dtype=np.int64))
            removed = self._drop(self._face_ids[np.sort(pos)])
            self._fit_sketch()
            return removed

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
        if self._sketch is not None:
            # Slots before faiss compacts them: the sketch then compacts the same way.
            slots = np.flatnonzero(np.isin(self._stored_ids(), gone)).astype(np.int64)
            self._sketch.remove_slots(slots)
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
        every face of the roster is scored (faiss skips the faces outside it, or the
        roster's vectors are gathered) rather than filtering a truncated list.
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
                if self._sketch is not None and 0 < searchable <= ROSTER_GATHER_MAX:
                    return self._search_gathered(q, top_k, np.sort(pos))
                if searchable:
                    # `selector` must outlive the search: params holds only a raw pointer.
                    selector = faiss.IDSelectorBatch(np.ascontiguousarray(self._face_ids[pos]))
                    params = faiss.SearchParameters()
                    params.sel = selector
            if searchable == 0:
                return [[] for _ in range(q.shape[0])]
            if params is None and self._sketch is not None:
                return self._search_widening(q, top_k, searchable, None, self._sketch_search)
            return self._search_widening(q, top_k, searchable, params, self._flat_search)

    def _flat_search(
        self, q: NDArray[np.float32], k: int, params: faiss.SearchParameters | None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        scores, ids = self._index.search(q, k, params=params)
        return scores, ids

    def _sketch_search(
        self, q: NDArray[np.float32], k: int, _: faiss.SearchParameters | None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Like faiss' search, from the sketch's candidates scored exactly. Read lock held."""
        assert self._sketch is not None
        slots = self._sketch.candidates(q, max(SKETCH_CANDIDATES, 4 * k))
        flat = cast(faiss.IndexFlatIP, faiss.downcast_index(self._index.index))
        scores = np.empty((q.shape[0], k), dtype=np.float32)
        best = np.empty((q.shape[0], k), dtype=np.int64)
        # faiss scores the candidates in place, keeping the k best (no gathered copy of
        # their vectors: 0.17 against 0.22 ms for 512 at 1M). -1 pads end a row; slots
        # not filled come back as -1.
        faiss.knn_inner_products_by_idx(  # type: ignore[attr-defined]  # not in the stubs
            faiss.swig_ptr(q), flat.get_xb(), faiss.swig_ptr(slots), self._dim, q.shape[0],
            flat.ntotal, slots.shape[1], k, faiss.swig_ptr(scores), faiss.swig_ptr(best),
            slots.shape[1],
        )  # fmt: skip
        ids = np.where(best >= 0, self._stored_ids()[np.maximum(best, 0)], -1)
        return scores, ids

    def _search_gathered(
        self, q: NDArray[np.float32], top_k: int, pos: NDArray[np.intp]
    ) -> list[list[PersonHit]]:
        """Exact answer over the faces at `pos`, all scored. Caller holds the read lock."""
        fids, pids = self._face_ids[pos], self._person_ids[pos]
        vecs = self._index.reconstruct_batch(np.ascontiguousarray(fids))
        results = []
        for row in q @ vecs.T:
            order = np.argsort(-row, kind="stable")
            results.append(best_per_person(row[order], fids[order], pids[order], top_k))
        return results

    def _search_widening(
        self,
        q: NDArray[np.float32],
        top_k: int,
        searchable: int,
        params: faiss.SearchParameters | None,
        search: _SearchFn,
    ) -> list[list[PersonHit]]:
        """Caller holds the read lock."""
        results: list[list[PersonHit]] = [[] for _ in range(q.shape[0])]
        pending = np.arange(q.shape[0])
        k = min(max(FACES_PER_PERSON * top_k, MIN_FACES), searchable)
        while pending.size:
            scores, ids = search(q[pending], k, params)
            still: list[int] = []
            for row, qi in enumerate(pending):
                valid = ids[row] >= 0
                fids = ids[row][valid]
                pids = self._person_ids[np.searchsorted(self._face_ids, fids)]
                hits = best_per_person(scores[row][valid], fids, pids, top_k)
                # Once every searchable face was asked for, fewer people is the answer.
                # The sketch's candidates grow with k, so widening reaches them all too.
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

    def _write_files(
        self, index_path: Path, mapping_path: Path, sketch_path: Path
    ) -> tuple[int, str, dict[str, int] | None]:
        """Write faiss index, mapping and sketch (when there is one) from one consistent
        state; return count, checksum and the sketch's signature (None: no sketch written).

        Holds the read lock while writing, so searches go on and writes wait; writing
        straight to the file avoids a second in-memory copy of every vector.
        """
        with self._lock.read():
            faiss.write_index(self._index, str(index_path))
            with mapping_path.open("wb") as fh:
                np.save(fh, np.stack([self._face_ids, self._person_ids]), allow_pickle=False)
            signature = None
            if self._sketch is not None:
                faiss.write_index_binary(self._sketch.codes, str(sketch_path))
                signature = self._sketch.signature()
            return int(self._face_ids.size), ids_checksum(self._face_ids), signature

    @classmethod
    def _from_parts(
        cls,
        model_id: str,
        index: faiss.IndexIDMap2,
        face_ids: NDArray[np.int64],
        person_ids: NDArray[np.int64],
        sketch: Sketch | None = None,
        sketch_threshold: int = SKETCH_THRESHOLD,
    ) -> GalleryIndex:
        """Wrap a loaded faiss index; the caller has checked it agrees with the mapping
        (and the sketch, if given, with the index)."""
        gallery = cls(int(index.d), model_id, sketch_threshold)
        gallery._index = index
        gallery._face_ids = np.ascontiguousarray(face_ids, dtype=np.int64)
        gallery._person_ids = np.ascontiguousarray(person_ids, dtype=np.int64)
        gallery._sketch = sketch
        with gallery._lock.write():
            gallery._fit_sketch()  # builds one a snapshot lacked, drops one not needed
        return gallery

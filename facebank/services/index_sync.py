"""Keeps the FAISS gallery index in step with the database, which is the source of truth."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from facebank.index.checksum import ids_checksum
from facebank.index.gallery_index import GalleryIndex
from facebank.index.people import PersonHit
from facebank.index.sketch import SKETCH_THRESHOLD
from facebank.index.snapshot import load_snapshot, save_snapshot
from facebank.pipeline.observer import StageObserver
from facebank.store.people import FaceRepository

log = logging.getLogger(__name__)


class IndexStatus(BaseModel):
    """The index against the database; GET /api/v1/index answers with exactly this."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    model_id: str
    dim: int
    index_size: int
    person_count: int
    db_count: int
    consistent: bool
    index_checksum: str
    db_checksum: str
    other_model_faces: dict[str, int] = Field(
        description="faces embedded with another model pack; not searchable until re-embedded"
    )
    last_sync: str | None
    last_sync_kind: str | None
    last_sync_seconds: float | None
    snapshot_saved_at: str | None


class IndexManager:
    """Owns the in-memory index: start-up sync, in-place updates, snapshots, verification.

    Writers (enroll, delete, rebuild) are serialised by `_write_lock` so a rebuild never
    interleaves with an in-place update; searches go straight to the index, which has its
    own readers-writer lock. Each search is reported to `observer` as the "search" stage.
    """

    def __init__(
        self, faces: FaceRepository, model_id: str, dim: int, snapshot_dir: Path,
        observer: StageObserver | None = None, sketch_threshold: int = SKETCH_THRESHOLD,
    ) -> None:  # fmt: skip
        self._faces = faces
        self._observer = observer
        self._model_id = model_id
        self._dim = dim
        self._snapshot_dir = snapshot_dir
        self._write_lock = threading.Lock()
        self._sketch_threshold = sketch_threshold
        self._index = GalleryIndex(dim, model_id, sketch_threshold)
        self._dirty = False
        self._last_sync: tuple[str, str, float] | None = None
        self._snapshot_saved_at: str | None = None

    @property
    def index(self) -> GalleryIndex:
        return self._index

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def size(self) -> tuple[int, int]:
        """(faces, people) in the index now: cheap, unlike status(), which checks the DB."""
        return self._index.size, self._index.person_count

    def start(self) -> IndexStatus:
        """Load the snapshot when it matches the database; otherwise repair it from the database."""
        started = time.perf_counter()
        with self._write_lock:
            loaded = load_snapshot(
                self._snapshot_dir, self._dim, self._model_id, self._sketch_threshold
            )
            db_ids = self._faces.face_ids(self._model_id)
            if loaded is not None and _same_ids(loaded[0].face_ids(), db_ids):
                self._index = loaded[0]
                self._snapshot_saved_at = str(loaded[1].get("saved_at"))
                kind = "snapshot"
            elif loaded is not None:
                self._index = loaded[0]
                removed, added = self._reconcile(db_ids)
                log.warning(
                    "stale index snapshot repaired from the database: -%d +%d faces", removed, added
                )
                kind = "snapshot+repair"
            else:
                self._rebuild_locked()
                kind = "rebuild"
            self._mark_sync(kind, started)
            if kind != "snapshot":
                self._save_locked()
        log.info("index ready: %s faces via %s", self._index.size, kind)
        return self.status()

    def rebuild(self) -> IndexStatus:
        started = time.perf_counter()
        with self._write_lock:
            self._rebuild_locked()
            self._mark_sync("rebuild", started)
            self._save_locked()
        return self.status()

    def replace(
        self, face_ids: NDArray[np.int64], person_ids: NDArray[np.int64],
        vectors: NDArray[np.float32],
    ) -> IndexStatus:  # fmt: skip
        """Take the whole index from rows the caller has just written (a restore), sparing
        the read back; see `install`."""
        return self.install(self.build(face_ids, person_ids, vectors))

    def build(
        self, face_ids: NDArray[np.int64], person_ids: NDArray[np.int64],
        vectors: NDArray[np.float32],
    ) -> GalleryIndex:  # fmt: skip
        """A new index of the given rows, outside the lock and the running index: a restore
        builds it while its rows are still going into the database."""
        fresh = GalleryIndex(self._dim, self._model_id, self._sketch_threshold)
        fresh.add(face_ids, person_ids, vectors)
        return fresh

    def install(self, fresh: GalleryIndex) -> IndexStatus:
        """Make `fresh` (from `build`) the index once it is checked against the database's
        face ids; rebuilt from the database instead when they differ. Saved either way."""
        started = time.perf_counter()
        with self._write_lock:
            if _same_ids(fresh.face_ids(), self._faces.face_ids(self._model_id)):
                self._index = fresh
                self._mark_sync("replace", started)
            else:
                log.warning("the given index differs from the database: rebuilding instead")
                self._rebuild_locked()
                self._mark_sync("rebuild", started)
            self._save_locked()
        return self.status()

    def add(self, face_ids: list[int], person_ids: list[int], vectors: NDArray[np.float32]) -> None:
        if not face_ids:
            return
        with self._write_lock:
            self._index.add(
                np.asarray(face_ids, dtype=np.int64),
                np.asarray(person_ids, dtype=np.int64),
                np.ascontiguousarray(vectors, dtype=np.float32),
            )
            self._dirty = True

    def remove(self, face_ids: list[int]) -> None:
        if not face_ids:
            return
        with self._write_lock:
            self._index.remove(np.asarray(face_ids, dtype=np.int64))
            self._dirty = True

    def search(
        self, queries: NDArray[np.float32], top_k: int, allowed_people: set[int] | None = None
    ) -> list[list[PersonHit]]:
        started = time.perf_counter()
        hits = self._index.search(queries, top_k, allowed_people)
        if self._observer is not None:
            self._observer.stage_done("search", time.perf_counter() - started)
        return hits

    def follow(self) -> bool:
        """Take in gallery changes committed by other processes sharing the database.

        The database is read under the write lock: an enroll or delete of this process
        commits before it takes that lock, so it is either already in what is read here or
        applied after, never undone. Returns whether the index changed.
        """
        with self._write_lock:
            index_ids = self._index.face_ids()
            summary = (int(index_ids.size), int(index_ids.sum()))
            if self._faces.id_summary(self._model_id) == summary:
                return False  # the usual case, without reading every id
            db_ids = self._faces.face_ids(self._model_id)
            if _same_ids(index_ids, db_ids):
                return False
            started = time.perf_counter()
            removed, added = self._reconcile(db_ids)
            self._mark_sync("follow", started)
            log.info("index followed the database: -%d +%d faces", removed, added)
            self._dirty = True
            return True

    def save_if_dirty(self) -> bool:
        with self._write_lock:
            if not self._dirty:
                return False
            self._save_locked()
            return True

    def status(self) -> IndexStatus:
        db_ids = self._faces.face_ids(self._model_id)
        index_ids = self._index.face_ids()
        counts = self._faces.count_by_model()
        last = self._last_sync
        return IndexStatus(
            model_id=self._model_id,
            dim=self._dim,
            index_size=int(index_ids.size),
            person_count=self._index.person_count,
            db_count=int(db_ids.size),
            consistent=_same_ids(index_ids, db_ids),
            index_checksum=ids_checksum(index_ids),
            db_checksum=ids_checksum(db_ids),
            other_model_faces={m: n for m, n in counts.items() if m != self._model_id},
            last_sync=last[0] if last else None,
            last_sync_kind=last[1] if last else None,
            last_sync_seconds=round(last[2], 4) if last else None,
            snapshot_saved_at=self._snapshot_saved_at,
        )

    def _rebuild_locked(self) -> None:
        fresh = GalleryIndex(self._dim, self._model_id, self._sketch_threshold)
        for face_ids, person_ids, vectors in self._faces.iter_embeddings(self._model_id):
            fresh.add(face_ids, person_ids, vectors)
        self._index = fresh

    def _reconcile(self, db_ids: NDArray[np.int64]) -> tuple[int, int]:
        """Bring the index to the database's state: drop extras, fetch what is missing.
        Returns (removed, added)."""
        index_ids = self._index.face_ids()
        extra = np.setdiff1d(index_ids, db_ids, assume_unique=True)
        missing = np.setdiff1d(db_ids, index_ids, assume_unique=True)
        if extra.size:
            self._index.remove(extra)
        if missing.size:
            face_ids, person_ids, vectors = self._faces.fetch_embeddings(missing.tolist())
            self._index.add(face_ids, person_ids, vectors)
        return int(extra.size), int(missing.size)

    def _save_locked(self) -> None:
        ids = self._index.face_ids()
        save_snapshot(self._index, self._snapshot_dir, {"count": int(ids.size)})
        self._snapshot_saved_at = datetime.now(UTC).isoformat()
        self._dirty = False

    def _mark_sync(self, kind: str, started: float) -> None:
        self._last_sync = (datetime.now(UTC).isoformat(), kind, time.perf_counter() - started)


def _same_ids(a: NDArray[np.int64], b: NDArray[np.int64]) -> bool:
    return a.size == b.size and ids_checksum(a) == ids_checksum(b)

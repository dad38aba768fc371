"""Keeps the gallery index in step with the database, which is the source of truth.

The index is FAISS in this process (saved as a snapshot) or, with FACEBANK_INDEX_BACKEND=
pgvector, a table on a PostgreSQL + pgvector server shared by every worker and machine
(persistent there, so no snapshot; docs/index.md)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from facebank.index.checksum import ids_checksum
from facebank.index.gallery_index import GalleryIndex
from facebank.index.people import PersonHit
from facebank.index.protocol import VectorIndex
from facebank.index.sketch import SKETCH_THRESHOLD
from facebank.index.snapshot import (
    StagedSnapshot,
    commit_snapshot,
    discard_snapshot,
    load_snapshot,
    save_snapshot,
    stage_snapshot,
)
from facebank.pipeline.observer import StageObserver
from facebank.store.changes import Change, ChangeKind, ChangeLogRepository, LogHead
from facebank.store.people import FaceRepository

log = logging.getLogger(__name__)

# Log rows read per round trip while catching up.
CATCH_UP_BATCH = 5000
# A face touched by a change is re-added when its vector moved by more than this (an
# own write's vector and the stored one are the same float32 bytes: 0.0).
SAME_VECTOR_ATOL = 1e-6


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
    applied_version: int = Field(description="the last gallery change the index holds")
    db_version: int = Field(description="the database's last gallery change")


class IndexLag(BaseModel):
    """The index's applied change against the database's: one primary-key read."""

    model_config = ConfigDict(frozen=True)

    index_size: int
    applied_version: int
    db_version: int

    @property
    def current(self) -> bool:
        return self.applied_version == self.db_version


class PersistentIndex(VectorIndex, Protocol):
    """An index an engine keeps (pgvector): it outlives the process, so it is reconciled
    with the database at start instead of loaded from a snapshot, and rebuilt in place."""

    def rebuild(
        self, batches: Iterable[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]]
    ) -> None: ...

    def close(self) -> None: ...


class IndexManager:
    """Owns the in-memory index: start-up sync, in-place updates, snapshots, verification.

    Writers (enroll, delete, rebuild) are serialised by `_write_lock` so a rebuild never
    interleaves with an in-place update; searches go straight to the index, which has its
    own readers-writer lock. Each search is reported to `observer` as the "search" stage.

    The index holds the database's gallery as of `_applied`, a version of the change log
    (facebank.store.changes), saved with every snapshot. Catching up reads the log after
    it and re-reads only the faces those changes touched: O(changes), whoever made them.
    """

    def __init__(
        self, faces: FaceRepository, model_id: str, dim: int, snapshot_dir: Path,
        observer: StageObserver | None = None, sketch_threshold: int = SKETCH_THRESHOLD,
        changes: ChangeLogRepository | None = None,
        engine_index: PersistentIndex | None = None,
    ) -> None:  # fmt: skip
        self._faces = faces
        self._changes = changes or ChangeLogRepository(faces.session_factory)
        self._applied = 0
        self._observer = observer
        self._model_id = model_id
        self._dim = dim
        self._snapshot_dir = snapshot_dir
        self._write_lock = threading.Lock()
        self._sketch_threshold = sketch_threshold
        self._engine_index = engine_index
        self._index: VectorIndex = engine_index or GalleryIndex(dim, model_id, sketch_threshold)
        self._dirty = False
        self._last_sync: tuple[str, str, float] | None = None
        self._snapshot_saved_at: str | None = None

    @property
    def index(self) -> VectorIndex:
        return self._index

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def size(self) -> tuple[int, int]:
        """(faces, people) in the index now: cheap, unlike status(), which checks the DB."""
        return self._index.size, self._index.person_count

    def start(self) -> IndexStatus:
        """Load the snapshot and replay the change log after it; rebuild from the database
        when there is no snapshot or the log no longer reaches back to it."""
        started = time.perf_counter()
        with self._write_lock:
            if self._engine_index is not None:
                return self._start_engine(started)
            loaded = load_snapshot(
                self._snapshot_dir, self._dim, self._model_id, self._sketch_threshold
            )
            version = loaded[1].get("version") if loaded is not None else None
            if loaded is not None and _replayable(version, self._changes.head()):
                self._index, self._applied = loaded[0], int(version)  # type: ignore[arg-type]
                self._snapshot_saved_at = str(loaded[1].get("saved_at"))
                kind = "snapshot+log" if self._catch_up_locked() else "snapshot"
            else:
                if loaded is not None:
                    log.warning("index snapshot at version %s is not in the change log", version)
                self._rebuild_locked()
                kind = "rebuild"
            self._mark_sync(kind, started)
            if kind != "snapshot":
                self._save_locked()
        log.info("index ready: %s faces via %s", self._index.size, kind)
        return self.status()

    def _start_engine(self, started: float) -> IndexStatus:
        """The engine's table is reconciled with the database (cheap when it is in step)."""
        self._applied = self._changes.head().version  # first: a later change is replayed
        index_ids = self._index.face_ids()
        removed, added = self._reconcile(index_ids, self._faces.face_ids(self._model_id))
        self._mark_sync("engine" if removed == added == 0 else "engine+repair", started)
        log.info(
            "index ready in the vector engine: %s faces, -%d +%d",
            index_ids.size - removed + added,
            removed,
            added,
        )
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
        self.install(self.build(face_ids, person_ids, vectors))
        return self.status()

    def build(
        self, face_ids: NDArray[np.int64], person_ids: NDArray[np.int64],
        vectors: NDArray[np.float32],
    ) -> GalleryIndex:  # fmt: skip
        """A new index of the given rows, outside the lock and the running index: a restore
        builds it while its rows are still going into the database."""
        fresh = GalleryIndex(self._dim, self._model_id, self._sketch_threshold)
        fresh.add(face_ids, person_ids, vectors)
        return fresh

    def stage(self, fresh: GalleryIndex) -> StagedSnapshot | None:
        """Write `fresh`'s snapshot files ahead of `install` (a restore does it while its
        rows go in), trusted only if `install` finds `fresh` matching the database. None
        with a vector engine, which keeps no snapshot."""
        if self._engine_index is not None:
            return None
        return stage_snapshot(fresh, self._snapshot_dir)

    def install(self, fresh: GalleryIndex, staged: StagedSnapshot | None = None) -> int:
        """Make `fresh` (from `build`) the index once it is checked against the database's
        face ids; rebuilt from the database instead when they differ. Saved either way:
        as `staged` (from `stage`) when that holds exactly the installed index's faces.
        Returns the index's size (status() would read every face id a second time)."""
        started = time.perf_counter()
        with self._write_lock:
            head = self._changes.head()  # before the ids: a later change is replayed
            installed: VectorIndex = fresh
            if self._engine_index is not None:
                self._engine_index.rebuild([fresh.entries(fresh.face_ids())])
                installed = self._engine_index
            if _same_ids(installed.face_ids(), self._faces.face_ids(self._model_id)):
                self._index, self._applied = installed, head.version
                self._mark_sync("replace", started)
            else:
                log.warning("the given index differs from the database: rebuilding instead")
                self._rebuild_locked()
                self._mark_sync("rebuild", started)
            self._save_locked(staged)
            return self._index.size

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
            self._catch_up_after_own_write()

    def remove(self, face_ids: list[int]) -> None:
        if not face_ids:
            return
        with self._write_lock:
            self._index.remove(np.asarray(face_ids, dtype=np.int64))
            self._dirty = True
            self._catch_up_after_own_write()

    def _catch_up_after_own_write(self) -> None:
        """Advance the applied version past this process's own change, which is in the
        index already (so replaying it finds nothing to do), and any change before it."""
        try:
            self._catch_up_locked()
        except Exception as exc:  # committed and in the index: the follow loop catches up
            log.warning("index catch-up after a write failed: %s", exc)

    def search(
        self, queries: NDArray[np.float32], top_k: int, allowed_people: set[int] | None = None
    ) -> list[list[PersonHit]]:
        started = time.perf_counter()
        hits = self._index.search(queries, top_k, allowed_people)
        if self._observer is not None:
            self._observer.stage_done("search", time.perf_counter() - started)
        return hits

    def follow(self) -> bool:
        """Take in gallery changes committed by other processes sharing the database:
        the change log after the applied version (one primary-key read when there is none).

        The database is read under the write lock: an enroll or delete of this process
        commits before it takes that lock, so it is either already in what is read here or
        applied after, never undone. Returns whether the applied version moved.
        """
        with self._write_lock:
            started = time.perf_counter()
            if not self._catch_up_locked():
                return False
            self._mark_sync("follow", started)
            return True

    def lag(self) -> IndexLag:
        """Applied version against the database's, for readiness: O(1), not O(gallery)."""
        return IndexLag(
            index_size=self._index.size,
            applied_version=self._applied,
            db_version=self._changes.head().version,
        )

    def compact_log(self, keep: int) -> int:
        """Drop all but the newest `keep` changes (facebank.store.changes: retention)."""
        return self._changes.compact(keep)

    def close(self) -> None:
        """Release the engine's connections (the FAISS index holds none)."""
        if self._engine_index is not None:
            self._engine_index.close()

    def save_if_dirty(self) -> bool:
        with self._write_lock:
            if not self._dirty:
                return False
            self._save_locked()
            return True

    def status(self) -> IndexStatus:
        """The full check (every face id, both sides): GET /api/v1/index, not readiness."""
        applied, head = self._applied, self._changes.head()
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
            applied_version=applied,
            db_version=head.version,
        )

    def _rebuild_locked(self) -> None:
        # The version first: a change committed while streaming is replayed next time,
        # and replaying a change the rows already show finds nothing to do.
        version = self._changes.head().version
        if self._engine_index is not None:
            self._engine_index.rebuild(self._faces.iter_embeddings(self._model_id))
            self._applied = version
            return
        fresh = GalleryIndex(self._dim, self._model_id, self._sketch_threshold)
        for face_ids, person_ids, vectors in self._faces.iter_embeddings(self._model_id):
            fresh.add(face_ids, person_ids, vectors)
        self._index, self._applied = fresh, version
        self._dirty = True

    def _catch_up_locked(self) -> bool:
        """Apply the log after `_applied`; rebuild when it cannot be replayed (compacted
        past it, a gap, a reset, or a database behind the index). Returns whether the
        applied version moved."""
        head = self._changes.head()
        if head.version == self._applied:
            return False
        changes = self._changes_after(head) if _replayable(self._applied, head) else None
        if changes is None:
            log.warning(
                "index at change %d cannot replay the log (database at %d, compacted through "
                "%d, or a reset): rebuilding", self._applied, head.version, head.compacted_through,
            )  # fmt: skip
            self._rebuild_locked()
            return True
        removed, added = self._apply_faces({i for change in changes for i in change.face_ids})
        self._applied = changes[-1].version
        self._dirty = True
        log.info("index applied changes %d..%d: -%d +%d faces",
                 changes[0].version, self._applied, removed, added)  # fmt: skip
        return True

    def _changes_after(self, head: LogHead) -> list[Change] | None:
        """Every change from `_applied` + 1 to `head`, or None where that is not possible:
        versions are contiguous, so a gap means rows were compacted away meanwhile."""
        changes: list[Change] = []
        upto = self._applied
        while upto < head.version:
            batch = self._changes.since(upto, CATCH_UP_BATCH)
            if not batch or batch[0].version != upto + 1:
                return None
            if any(change.kind is ChangeKind.RESET for change in batch):
                return None
            changes.extend(batch)
            upto = batch[-1].version
        return changes

    def _apply_faces(self, touched: set[int]) -> tuple[int, int]:
        """Make the index hold exactly what the database holds now for these faces: gone
        ones removed, new or changed ones (vector, person, model) re-read. Idempotent: a
        change the index already holds costs a read and no index write. (removed, added)"""
        if not touched:
            return 0, 0
        wanted = sorted(touched)
        db_ids, db_people, db_vectors = self._faces.fetch_embeddings(wanted, self._model_id)
        ix_ids, ix_people, ix_vectors = self._index.entries(wanted)
        gone = np.setdiff1d(ix_ids, db_ids, assume_unique=True)
        fresh = np.ones(db_ids.size, dtype=bool)
        if ix_ids.size and db_ids.size:
            at = np.minimum(np.searchsorted(ix_ids, db_ids), ix_ids.size - 1)
            same_vector = np.all(np.abs(ix_vectors[at] - db_vectors) <= SAME_VECTOR_ATOL, axis=1)
            fresh = ~((ix_ids[at] == db_ids) & (ix_people[at] == db_people) & same_vector)
        if gone.size:
            self._index.remove(gone)
        if fresh.any():
            self._index.add(db_ids[fresh], db_people[fresh], db_vectors[fresh])
        return int(gone.size), int(fresh.sum())

    def _reconcile(
        self, index_ids: NDArray[np.int64], db_ids: NDArray[np.int64]
    ) -> tuple[int, int]:
        """Bring the index to the database's state: drop extras, fetch what is missing.
        Returns (removed, added).

        `index_ids` must be read before `db_ids`: with a shared engine, another process
        commits a face and then adds it, so a face it adds after `db_ids` was read is in
        neither list here, rather than an "extra" this would remove."""
        extra = np.setdiff1d(index_ids, db_ids, assume_unique=True)
        missing = np.setdiff1d(db_ids, index_ids, assume_unique=True)
        if extra.size:
            self._index.remove(extra)
        if missing.size:
            face_ids, person_ids, vectors = self._faces.fetch_embeddings(missing.tolist())
            self._index.add(face_ids, person_ids, vectors)
        return int(extra.size), int(missing.size)

    def _save_locked(self, staged: StagedSnapshot | None = None) -> None:
        if self._engine_index is not None:
            self._dirty = False  # the engine keeps its table: nothing to snapshot
            return
        assert isinstance(self._index, GalleryIndex)
        ids = self._index.face_ids()
        state = {"count": int(ids.size), "version": self._applied,
                 "saved_at": datetime.now(UTC).isoformat()}  # fmt: skip
        if staged is not None and (staged.count, staged.checksum) == (ids.size, ids_checksum(ids)):
            commit_snapshot(staged, state)
        else:
            if staged is not None:
                discard_snapshot(staged)  # of another index than the one installed
            save_snapshot(self._index, self._snapshot_dir, state)
        self._snapshot_saved_at = datetime.now(UTC).isoformat()
        self._dirty = False

    def _mark_sync(self, kind: str, started: float) -> None:
        self._last_sync = (datetime.now(UTC).isoformat(), kind, time.perf_counter() - started)


def _replayable(version: object, head: LogHead) -> bool:
    """Whether the log holds every change after `version` (else: rebuild)."""
    return (
        isinstance(version, int)
        and not isinstance(version, bool)
        and head.compacted_through <= version <= head.version
    )


def _same_ids(a: NDArray[np.int64], b: NDArray[np.int64]) -> bool:
    return a.size == b.size and ids_checksum(a) == ids_checksum(b)

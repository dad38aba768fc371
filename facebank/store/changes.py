"""The gallery change log: every change to the searchable gallery, numbered in commit order.

Writers call `record_change` inside the transaction that changes faces, so the log and the
faces never disagree after a crash: both commit or neither does. `record_change` bumps the
one `gallery_head` row last and holds its lock to the commit, which gives versions out in
commit order (see GalleryHead). Followers read `since(v)`: O(changes), not O(gallery).

Retention: `compact(keep)` deletes all but the newest `keep` rows and records the cut in
`gallery_head.compacted_through`; an index whose applied version is below the cut (a
snapshot or a follower further behind than `keep` changes) cannot replay and rebuilds
from the database instead. Deleting rows never changes the version, so it is always safe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from facebank.store.change_notify import notify_change
from facebank.store.coltypes import utcnow
from facebank.store.tables import GalleryChange, GalleryHead
from facebank.store.tx import SessionFactory, run_read, run_write

HEAD_ID = 1


class ChangeKind(StrEnum):
    ADD = "add"  # faces inserted
    REMOVE = "remove"  # faces deleted (one face, or a person's)
    REPLACE = "replace"  # a face re-embedded in place (same id, new vector or model)
    RESET = "reset"  # the gallery loaded wholesale (a restore): followers rebuild
    MOVE = "move"  # faces given to another person (merge, split): same id and vector


@dataclass(frozen=True)
class LogHead:
    version: int
    compacted_through: int


@dataclass(frozen=True)
class Change:
    version: int
    kind: ChangeKind
    face_ids: tuple[int, ...]


def record_change(session: Session, kind: ChangeKind, face_ids: Iterable[int]) -> int:
    """Append a change in the caller's transaction; returns its version. Call it last in
    the transaction: it takes the head row's lock, held until the commit."""
    ids = sorted({int(i) for i in face_ids})
    session.execute(
        update(GalleryHead).where(GalleryHead.id == HEAD_ID).values(version=GalleryHead.version + 1)
    )
    version = session.scalar(select(GalleryHead.version).where(GalleryHead.id == HEAD_ID))
    assert version is not None  # the row is written by migration 0006
    session.add(GalleryChange(version=version, kind=str(kind), face_ids=ids, created_at=utcnow()))
    session.flush()
    notify_change(session)
    return version


class ChangeLogRepository:
    """Reads and compacts the log; writes happen through `record_change` in the writers."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def head(self) -> LogHead:
        """The gallery's version and the compaction cut: one primary-key read."""

        def work(session: Session) -> LogHead:
            row = session.get(GalleryHead, HEAD_ID)
            assert row is not None  # written by migration 0006
            return LogHead(int(row.version), int(row.compacted_through))

        return run_read(self._sessions, work)

    def since(self, version: int, limit: int = 10_000) -> list[Change]:
        """Changes after `version`, oldest first, at most `limit` of them."""

        def work(session: Session) -> list[Change]:
            query = (
                select(GalleryChange.version, GalleryChange.kind, GalleryChange.face_ids)
                .where(GalleryChange.version > version)
                .order_by(GalleryChange.version)
                .limit(limit)
            )
            return [
                Change(int(v), ChangeKind(k), tuple(int(i) for i in ids))
                for v, k, ids in session.execute(query)
            ]

        return run_read(self._sessions, work)

    def compact(self, keep: int) -> int:
        """Delete all but the newest `keep` changes; returns how many were deleted."""

        def work(session: Session) -> int:
            head = session.get(GalleryHead, HEAD_ID, with_for_update=True)
            assert head is not None
            cut = head.version - keep
            if cut <= head.compacted_through:
                return 0
            result = session.execute(delete(GalleryChange).where(GalleryChange.version <= cut))
            head.compacted_through = cut
            return int(getattr(result, "rowcount", 0) or 0)

        return run_write(self._sessions, work)

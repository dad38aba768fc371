"""Session events: append (with their webhook delivery), page through, and what a resumed
session needs to know about who it already reported."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facebank.errors import NotFoundError
from facebank.store.session_mapping import (
    RECOGNITION,
    event_record,
    insert_event,
    merge_sightings,
)
from facebank.store.session_records import EventRecord, NewEvent, Sighting
from facebank.store.tables import LiveSession, SessionEvent
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id


class EventRepository:
    def __init__(self, session_factory: SessionFactory, retry_for_s: float) -> None:
        self._sessions = session_factory
        self._retry_for_s = retry_for_s

    def append(
        self, session_id: int, new: NewEvent, sightings: Sequence[Sighting] = ()
    ) -> EventRecord:
        """Store the event, its pending webhook delivery and the sightings behind it in one
        transaction, so the summary and the event list never disagree."""

        def work(session: Session) -> EventRecord:
            owner = session.get(LiveSession, session_id)
            if owner is None:
                raise NotFoundError(f"session {session_id} not found", session_id=session_id)
            merge_sightings(session, session_id, sightings)
            return insert_event(session, owner, new, self._retry_for_s)

        return run_write(self._sessions, work)

    def page(
        self, session_id: int, after: int, limit: int, types: Collection[str] | None = None
    ) -> list[EventRecord]:
        """Events with seq > `after`, oldest first."""
        conditions = [SessionEvent.session_id == session_id, SessionEvent.id > max(0, after)]
        if types:
            conditions.append(SessionEvent.type.in_(sorted(types)))

        def work(session: Session) -> list[EventRecord]:
            rows = session.scalars(
                select(SessionEvent).where(*conditions).order_by(SessionEvent.id).limit(limit)
            )
            return [event_record(row) for row in rows]

        return run_read(self._sessions, work)

    def get(self, session_id: int, event_id: str) -> EventRecord:
        def work(session: Session) -> EventRecord:
            row = session.scalar(
                select(SessionEvent).where(
                    SessionEvent.event_id == event_id, SessionEvent.session_id == session_id
                )
            )
            if row is None:
                raise NotFoundError(f"event {event_id!r} not found in session {session_id}")
            return event_record(row)

        return run_read(self._sessions, work)

    def last_reported(self, session_id: int) -> dict[int, datetime]:
        """person id -> time of their latest recognition event: the `once` set and the
        `every` cooldowns of a resumed session come from here, never from memory."""

        def work(session: Session) -> dict[int, datetime]:
            rows = session.execute(
                select(SessionEvent.person_id, func.max(SessionEvent.created_at))
                .where(
                    SessionEvent.session_id == session_id,
                    SessionEvent.type == RECOGNITION,
                    SessionEvent.person_id.is_not(None),
                )
                .group_by(SessionEvent.person_id)
            ).all()
            return {int(pid): at for pid, at in rows if pid is not None}

        return run_read(self._sessions, work) if is_storable_id(session_id) else {}

    def counts(self, session_id: int) -> dict[str, int]:
        """Number of events per type."""

        def work(session: Session) -> dict[str, int]:
            rows = session.execute(
                select(SessionEvent.type, func.count(SessionEvent.id))
                .where(SessionEvent.session_id == session_id)
                .group_by(SessionEvent.type)
            ).all()
            return {str(kind): int(n) for kind, n in rows}

        return run_read(self._sessions, work)

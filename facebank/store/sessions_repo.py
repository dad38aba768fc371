"""Live sessions: create (with their cameras and "started" event), read, finish, camera state,
and the per-person summary."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, NotFoundError
from facebank.store.coltypes import utcnow
from facebank.store.records import Page
from facebank.store.session_mapping import (
    insert_event,
    load_session,
    merge_sightings,
    people_summary,
    session_record,
)
from facebank.store.session_records import (
    EventRecord,
    NewEvent,
    NewSession,
    SessionPersonRecord,
    SessionRecord,
    SessionStatus,
    Sighting,
    clip,
)
from facebank.store.tables import LiveSession, SessionCamera
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id

StartedEvent = Callable[[SessionRecord], NewEvent]
EndedEvent = Callable[[SessionRecord, list[SessionPersonRecord]], NewEvent]


class SessionRepository:
    def __init__(self, session_factory: SessionFactory, retry_for_s: float) -> None:
        self._sessions = session_factory
        self._retry_for_s = retry_for_s  # how long the webhook deliveries created here live

    def create(self, new: NewSession, started: StartedEvent) -> tuple[SessionRecord, EventRecord]:
        """Insert the session, its cameras and its "started" event (built by `started` from
        the stored record) in one transaction. A second active session with the same key is
        a ConflictError."""

        def work(session: Session) -> tuple[SessionRecord, EventRecord]:
            _ensure_key_free(session, new.key)
            now = utcnow()
            row = _session_row(new, now)
            session.add(row)
            session.flush()
            cameras = [
                SessionCamera(
                    session_id=row.id,
                    position=i,
                    name=camera.name,
                    url=camera.url,
                    target_fps=camera.target_fps,
                    loop=camera.loop,
                    status="starting",
                    failures=0,
                    updated_at=now,
                )
                for i, camera in enumerate(new.cameras)
            ]
            session.add_all(cameras)
            session.flush()
            record = session_record(row, cameras)
            return record, insert_event(session, row, started(record), self._retry_for_s)

        try:
            return run_write(self._sessions, work)
        except IntegrityError as exc:
            # Two starts raced past the pre-check; the unique index decided.
            if "active_key" in str(exc.orig):
                raise ConflictError(
                    f"session key {new.key!r} already has an active session", key=new.key
                ) from exc
            raise

    def get(self, session_id: int) -> SessionRecord:
        return run_read(self._sessions, lambda s: load_session(s, _get(s, session_id)))

    def search(
        self, status: SessionStatus | None, key: str | None, offset: int, limit: int
    ) -> Page[SessionRecord]:
        """Newest first."""
        conditions = []
        if status is not None:
            conditions.append(LiveSession.status == status)
        if key is not None:
            conditions.append(LiveSession.key == key)

        def work(session: Session) -> Page[SessionRecord]:
            total = session.scalar(select(func.count(LiveSession.id)).where(*conditions)) or 0
            rows = session.scalars(
                select(LiveSession)
                .where(*conditions)
                .order_by(LiveSession.id.desc())
                .offset(offset)
                .limit(limit)
            )
            items = [load_session(session, row) for row in rows]
            return Page(items=items, total=int(total), offset=offset, limit=limit)

        return run_read(self._sessions, work)

    def active(self) -> list[SessionRecord]:
        def work(session: Session) -> list[SessionRecord]:
            rows = session.scalars(
                select(LiveSession).where(LiveSession.status == "active").order_by(LiveSession.id)
            )
            return [load_session(session, row) for row in rows]

        return run_read(self._sessions, work)

    def finish(
        self, session_id: int, status: SessionStatus, reason: str, ended: EndedEvent
    ) -> tuple[SessionRecord, EventRecord | None]:
        """End an active session with its final event (built from the record and summary).
        Ending one that already ended changes nothing and returns no event."""

        def work(session: Session) -> tuple[SessionRecord, EventRecord | None]:
            row = _get(session, session_id, lock=True)
            if row.status != "active":
                return load_session(session, row), None
            now = utcnow()
            row.status = status
            row.reason = clip(reason)
            row.active_key = None
            row.ended_at = now
            row.updated_at = now
            session.flush()
            record = load_session(session, row)
            event = ended(record, people_summary(session, session_id))
            return record, insert_event(session, row, event, self._retry_for_s)

        return run_write(self._sessions, work)

    def set_camera_state(
        self, camera_id: int, status: str, failures: int, last_error: str | None
    ) -> None:
        def work(session: Session) -> None:
            session.execute(
                update(SessionCamera)
                .where(SessionCamera.id == camera_id)
                .values(
                    status=status,
                    failures=failures,
                    last_error=clip(last_error),
                    updated_at=utcnow(),
                )
            )

        run_write(self._sessions, work)

    def record_sightings(self, session_id: int, sightings: Sequence[Sighting]) -> None:
        if sightings:
            run_write(self._sessions, lambda s: merge_sightings(s, session_id, sightings))

    def people(self, session_id: int) -> list[SessionPersonRecord]:
        return run_read(self._sessions, lambda s: people_summary(s, session_id))


def _session_row(new: NewSession, now: object) -> LiveSession:
    return LiveSession(
        key=new.key,
        active_key=new.key,
        status="active",
        reason=None,
        mode=new.mode,
        threshold=new.threshold,
        cooldown_s=new.cooldown_s,
        roster=None if new.roster is None else list(new.roster),
        ends_at=new.ends_at,
        webhook_url=new.webhook_url,
        webhook_secret=new.webhook_secret,
        evidence=new.evidence,
        created_at=now,
        updated_at=now,
        ended_at=None,
    )


def _ensure_key_free(session: Session, key: str) -> None:
    owner = session.scalar(select(LiveSession.id).where(LiveSession.active_key == key))
    if owner is not None:
        raise ConflictError(
            f"session key {key!r} already has an active session ({owner})",
            key=key,
            session_id=owner,
        )


def _get(session: Session, session_id: int, lock: bool = False) -> LiveSession:
    row = (
        session.get(LiveSession, session_id, with_for_update=lock)
        if is_storable_id(session_id)
        else None
    )
    if row is None:
        raise NotFoundError(f"session {session_id} not found", session_id=session_id)
    return row

"""Live sessions, their cameras, events and webhook deliveries: field types and limits,
inputs, records, row mapping and the repositories (no ORM objects and no secrets cross this
boundary).

The `Annotated` field types below are the one declaration of each field's limits: the
store's inputs validate with them and the API's request models are built from them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal, cast

from pydantic import AfterValidator, Field
from sqlalchemy import ColumnElement, and_, case, func, or_, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, NotFoundError, ValidationFailedError
from facebank.store.audit import AuditFor, audited
from facebank.store.coltypes import utcnow
from facebank.store.limits import (
    CAMERA_NAME_MAX,
    FPS_MAX,
    KEY_MAX,
    SECRET_MAX,
    SECRET_MIN,
    TEXT_MAX,
    URL_MAX,
)
from facebank.store.paging import Page
from facebank.store.queries import count_by, fetch_page
from facebank.store.shapes import AnswerRecord, CheckedInput, record_from
from facebank.store.tables import (
    LiveSession,
    SessionCamera,
    SessionEvent,
    SessionPerson,
    WebhookAttempt,
    WebhookDelivery,
)
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id, not_blank

# --- field types and limits ------------------------------------------------------------

SessionMode = Literal["once", "every"]
SessionStatus = Literal["active", "ended", "failed"]
DeliveryStatus = Literal["pending", "delivered", "failed"]

RECOGNITION = "recognition"  # the event type the summaries count (see sessions.events)

SessionKey = Annotated[str, Field(min_length=1, max_length=KEY_MAX)]
Url = Annotated[str, Field(min_length=1, max_length=URL_MAX)]
CameraName = Annotated[str, Field(min_length=1, max_length=CAMERA_NAME_MAX)]
Fps = Annotated[float, Field(gt=0, le=FPS_MAX)]
WebhookSecret = Annotated[str, Field(min_length=SECRET_MIN, max_length=SECRET_MAX)]
Threshold = Annotated[float, Field(ge=-1.0, le=1.0)]
Cooldown = Annotated[float, Field(ge=0)]


def clip(text: str | None, limit: int = TEXT_MAX) -> str | None:
    """Error texts come from drivers and servers: cut them to the column size."""
    return None if text is None else text[:limit]


# --- inputs ----------------------------------------------------------------------------


class NewCamera(CheckedInput):
    subject: ClassVar[str] = "the camera"

    url: Annotated[Url, AfterValidator(not_blank)]
    name: CameraName
    target_fps: Fps
    loop: bool = False


class NewSession(CheckedInput):
    subject: ClassVar[str] = "the session"

    key: SessionKey
    mode: SessionMode
    threshold: Threshold
    cooldown_s: Cooldown
    cameras: tuple[NewCamera, ...] = Field(min_length=1)
    roster: tuple[int, ...] | None = None
    ends_at: datetime | None = None
    webhook_url: Url | None = None
    # Kept out of every repr: it must never reach a log line.
    webhook_secret: WebhookSecret | None = Field(default=None, repr=False)
    evidence: bool = True
    unknown_events: bool = False  # unknown.cluster_created / _grew events (issue 12)


@dataclass(frozen=True)
class NewEvent:
    event_id: str
    type: str
    payload: dict[str, Any]
    created_at: datetime
    camera_id: int | None = None
    person_id: int | None = None
    evidence: bool = False


@dataclass(frozen=True)
class Sighting:
    """Seen-statistics of one person to merge into the session summary."""

    person_id: int
    first_seen: datetime
    last_seen: datetime
    new_sightings: int
    best_score: float


@dataclass(frozen=True)
class AttemptResult:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CameraRecord:
    id: int
    session_id: int
    position: int
    name: str
    url: str
    target_fps: float
    loop: bool
    status: str
    failures: int
    last_error: str | None


@dataclass(frozen=True)
class SessionRecord:
    """A session as stored. The webhook secret is deliberately not part of it."""

    id: int
    key: str
    status: SessionStatus
    reason: str | None
    mode: SessionMode
    threshold: float
    cooldown_s: float
    roster: tuple[int, ...] | None
    ends_at: datetime | None
    webhook_url: str | None
    evidence: bool
    unknown_events: bool
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    cameras: tuple[CameraRecord, ...]


@dataclass(frozen=True)
class EventRecord:
    seq: int  # database id: increases with every event, the paging cursor
    event_id: str
    session_id: int
    type: str
    camera_id: int | None
    person_id: int | None
    payload: dict[str, Any]
    evidence: bool
    created_at: datetime


@dataclass(frozen=True)
class SessionPersonRecord:
    person_id: int
    first_seen: datetime
    last_seen: datetime
    sightings: int  # confirmed tracks
    events: int  # recognition events reported
    best_score: float


class DeliveryRecord(AnswerRecord):
    id: int
    event_id: str
    event_type: str
    url: str
    status: str  # a DeliveryStatus; a plain string in the API's documented shape
    replay: bool
    attempts: int
    next_attempt_at: datetime
    deadline_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class AttemptRecord(AnswerRecord):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass(frozen=True)
class DeliveryJob:
    """A claimed delivery with what sending needs. Holds the secret: never log it."""

    delivery_id: int
    event_id: str
    event_type: str
    url: str
    secret: str
    payload: dict[str, Any]
    attempts: int
    deadline_at: datetime
    replay: bool

    def __repr__(self) -> str:
        return f"DeliveryJob(id={self.delivery_id}, event={self.event_id}, url={self.url!r})"


# --- row mapping -----------------------------------------------------------------------


def session_record(row: LiveSession, cameras: Iterable[SessionCamera]) -> SessionRecord:
    return record_from(
        SessionRecord,
        row,
        status=cast(SessionStatus, row.status),
        mode=cast(SessionMode, row.mode),
        roster=None if row.roster is None else tuple(int(p) for p in row.roster),
        cameras=tuple(
            record_from(CameraRecord, c) for c in sorted(cameras, key=lambda c: c.position)
        ),
    )


def load_session(session: Session, row: LiveSession) -> SessionRecord:
    cameras = session.scalars(select(SessionCamera).where(SessionCamera.session_id == row.id))
    return session_record(row, cameras)


def event_record(row: SessionEvent) -> EventRecord:
    return record_from(EventRecord, row, seq=row.id, payload=copy.deepcopy(row.payload))


def delivery_record(row: WebhookDelivery, event: SessionEvent) -> DeliveryRecord:
    return record_from(DeliveryRecord, row, event_id=event.event_id, event_type=event.type)


def _job(delivery: WebhookDelivery, event: SessionEvent, secret: str | None) -> DeliveryJob:
    return record_from(
        DeliveryJob,
        delivery,
        delivery_id=delivery.id,
        event_id=event.event_id,
        event_type=event.type,
        secret=secret or "",
        payload=dict(event.payload),
    )


def _session_row(new: NewSession, now: datetime) -> LiveSession:
    return LiveSession(
        **new.model_dump(exclude={"cameras", "roster"}),
        roster=None if new.roster is None else list(new.roster),
        active_key=new.key,
        status="active",
        created_at=now,
        updated_at=now,
    )


def _camera_rows(
    session_id: int, cameras: Sequence[NewCamera], now: datetime
) -> list[SessionCamera]:
    return [
        SessionCamera(
            **camera.model_dump(),
            session_id=session_id,
            position=i,
            status="starting",
            failures=0,
            updated_at=now,
        )
        for i, camera in enumerate(cameras)
    ]


def new_delivery(
    owner: LiveSession,
    event: SessionEvent,
    now: datetime,
    retry_for_s: float,
    replay: bool = False,
) -> WebhookDelivery:
    """A pending delivery, due now; retried until `retry_for_s` from now."""
    assert owner.webhook_url is not None
    return WebhookDelivery(
        session_id=owner.id,
        event_row_id=event.id,
        url=owner.webhook_url,
        status="pending",
        replay=replay,
        attempts=0,
        next_attempt_at=now,
        lease_until=None,
        deadline_at=now + timedelta(seconds=retry_for_s),
        created_at=now,
    )


def insert_event(
    session: Session, owner: LiveSession, new: NewEvent, retry_for_s: float
) -> EventRecord:
    """Store the event and, when the session has a webhook, its pending delivery: one
    transaction, so an event is never stored without the promise to deliver it."""
    row = SessionEvent(**asdict(new), session_id=owner.id)  # asdict copies the payload
    session.add(row)
    session.flush()
    if owner.webhook_url:
        session.add(new_delivery(owner, row, new.created_at, retry_for_s))
        session.flush()
    return event_record(row)


def merge_sightings(session: Session, session_id: int, sightings: Sequence[Sighting]) -> None:
    """Fold seen-statistics into the summary rows. Callers hold the session row lock
    (cameras of one session may run on several runners), so read-then-write is enough."""
    for seen in sightings:
        key = (session_id, seen.person_id)
        row = session.get(SessionPerson, key, with_for_update=True)
        if row is None:
            session.add(
                SessionPerson(
                    session_id=session_id,
                    person_id=seen.person_id,
                    first_seen=seen.first_seen,
                    last_seen=seen.last_seen,
                    sightings=seen.new_sightings,
                    best_score=seen.best_score,
                )
            )
            continue
        row.first_seen = min(row.first_seen, seen.first_seen)
        row.last_seen = max(row.last_seen, seen.last_seen)
        row.sightings += seen.new_sightings
        row.best_score = max(float(row.best_score), seen.best_score)
    session.flush()


def people_summary(session: Session, session_id: int) -> list[SessionPersonRecord]:
    counts = count_by(
        session,
        SessionEvent.person_id,
        SessionEvent.session_id == session_id,
        SessionEvent.type == RECOGNITION,
    )
    rows = session.scalars(
        select(SessionPerson)
        .where(SessionPerson.session_id == session_id)
        .order_by(SessionPerson.first_seen, SessionPerson.person_id)
    )
    return [
        record_from(SessionPersonRecord, row, events=int(counts.get(row.person_id, 0)))
        for row in rows
    ]


# --- sessions: create (with cameras, "started" event and audit entry), read, finish -------

StartedEvent = Callable[[SessionRecord], NewEvent]
EndedEvent = Callable[[SessionRecord, list[SessionPersonRecord]], NewEvent]


class SessionRepository:
    def __init__(self, session_factory: SessionFactory, retry_for_s: float) -> None:
        self._sessions = session_factory
        self._retry_for_s = retry_for_s  # how long the webhook deliveries created here live

    def create(
        self, new: NewSession, started: StartedEvent, audit: AuditFor[SessionRecord]
    ) -> tuple[SessionRecord, EventRecord]:
        """Insert the session, its cameras, its "started" event and its audit entry (both
        built from the stored record) in one transaction. A second active session with the
        same key is a ConflictError."""

        def work(session: Session) -> tuple[SessionRecord, EventRecord]:
            _ensure_key_free(session, new.key)
            now = utcnow()
            row = _session_row(new, now)
            session.add(row)
            session.flush()
            cameras = _camera_rows(row.id, new.cameras, now)
            session.add_all(cameras)
            session.flush()
            record = audited(session, session_record(row, cameras), audit, now)
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
        self, statuses: Collection[SessionStatus], key: str | None, offset: int, limit: int
    ) -> Page[SessionRecord]:
        """Newest first; any of `statuses` (none given: every status)."""
        conditions: list[ColumnElement[bool]] = []
        if statuses:
            conditions.append(LiveSession.status.in_(sorted(statuses)))
        if key is not None:
            conditions.append(LiveSession.key == key)

        query = select(LiveSession).where(*conditions).order_by(LiveSession.id.desc())

        def work(session: Session) -> Page[SessionRecord]:
            return fetch_page(session, query, offset, limit, lambda r: load_session(session, r))

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
        if not sightings:
            return

        def work(session: Session) -> None:
            _get(session, session_id, lock=True)  # runtimes on other runners merge too
            merge_sightings(session, session_id, sightings)

        run_write(self._sessions, work)

    def people(self, session_id: int) -> list[SessionPersonRecord]:
        return run_read(self._sessions, lambda s: people_summary(s, session_id))


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


# --- events: append (with their webhook delivery), page, what a resumed session knows ----


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
            owner = _get(session, session_id, lock=bool(sightings))
            merge_sightings(session, session_id, sightings)
            return insert_event(session, owner, new, self._retry_for_s)

        return run_write(self._sessions, work)

    def append_recognition(
        self, session_id: int, new: NewEvent, sightings: Sequence[Sighting] = ()
    ) -> EventRecord | None:
        """Like `append`, unless the session is "once" and the database already holds a
        report of this person (a camera of the session on another runner reported them):
        then only the sightings are merged and None is returned. The session row
        lock makes the check and the insert one step across runners."""

        def work(session: Session) -> EventRecord | None:
            owner = _get(session, session_id, lock=True)
            merge_sightings(session, session_id, sightings)
            if new.person_id is not None and _reported_already(session, owner, new):
                return None
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
            row = (
                session.scalar(
                    select(SessionEvent).where(
                        SessionEvent.event_id == event_id, SessionEvent.session_id == session_id
                    )
                )
                if is_storable_id(session_id)  # past int64 the driver fails, not "not found"
                else None
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
        at_session = SessionEvent.session_id == session_id
        return run_read(self._sessions, lambda s: count_by(s, SessionEvent.type, at_session))


def _reported_already(session: Session, owner: LiveSession, new: NewEvent) -> bool:
    """A "once" session's report of this person exists. ("every" keeps its cooldown per
    runner: the stored times are when events were written, not when frames were seen.)"""
    if owner.mode != "once":
        return False
    last: datetime | None = session.scalar(
        select(func.max(SessionEvent.created_at)).where(
            SessionEvent.session_id == owner.id,
            SessionEvent.type == RECOGNITION,
            SessionEvent.person_id == new.person_id,
        )
    )
    return last is not None


# --- webhook deliveries: claim the due ones under a lease, record attempts, list, replay -

_Delivery = WebhookDelivery


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        _Delivery.status == "pending",
        _Delivery.next_attempt_at <= now,
        or_(_Delivery.lease_until.is_(None), _Delivery.lease_until < now),
    )


class DeliveryRepository:
    def __init__(self, session_factory: SessionFactory, retry_for_s: float) -> None:
        self._sessions = session_factory
        self._retry_for_s = retry_for_s

    def claim_due(self, now: datetime, limit: int, lease_s: float) -> list[DeliveryJob]:
        """Lease up to `limit` due deliveries (oldest due first) and return what sending
        them needs."""

        def work(session: Session) -> list[DeliveryJob]:
            ids = list(
                session.scalars(
                    select(_Delivery.id)
                    .where(_due(now))
                    .order_by(_Delivery.next_attempt_at, _Delivery.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            if not ids:
                return []
            session.execute(
                update(_Delivery)
                .where(_Delivery.id.in_(ids))
                .values(lease_until=now + timedelta(seconds=lease_s))
            )
            rows = session.execute(
                select(_Delivery, SessionEvent, LiveSession.webhook_secret)
                .join(SessionEvent, SessionEvent.id == _Delivery.event_row_id)
                .join(LiveSession, LiveSession.id == _Delivery.session_id)
                .where(_Delivery.id.in_(ids))
                .order_by(_Delivery.next_attempt_at, _Delivery.id)
            ).all()
            return [_job(delivery, event, secret) for delivery, event, secret in rows]

        return run_write(self._sessions, work)

    def next_due_at(self) -> datetime | None:
        """When the earliest pending delivery becomes due (its lease included)."""

        # Per row, the later of its due time and its lease: the minimum of each column
        # separately could pair one row's due time with another row's lease.
        ready_at = type_coerce(
            case(
                (_Delivery.lease_until > _Delivery.next_attempt_at, _Delivery.lease_until),
                else_=_Delivery.next_attempt_at,
            ),
            _Delivery.next_attempt_at.type,
        )

        def work(session: Session) -> datetime | None:
            due: datetime | None = session.scalar(
                select(func.min(ready_at)).where(_Delivery.status == "pending")
            )
            return due

        return run_read(self._sessions, work)

    def record_attempt(
        self, delivery_id: int, result: AttemptResult, retry_at: datetime | None
    ) -> DeliveryStatus:
        """Log the attempt and release the lease: delivered, due again at `retry_at`, or
        failed for good when there is no retry or it would fall past the deadline."""

        def work(session: Session) -> DeliveryStatus:
            row = session.get(_Delivery, delivery_id, with_for_update=True)
            if row is None:  # the session was deleted meanwhile
                return "failed"
            row.attempts += 1
            session.add(
                WebhookAttempt(
                    delivery_id=row.id,
                    attempt=row.attempts,
                    at=result.at,
                    status_code=result.status_code,
                    error=clip(result.error),
                    duration_ms=round(result.duration_ms, 2),
                )
            )
            row.last_status_code = result.status_code
            row.last_error = clip(result.error)
            row.lease_until = None
            if result.ok:
                row.status = "delivered"
                row.delivered_at = result.at
            elif retry_at is not None and retry_at <= row.deadline_at:
                row.next_attempt_at = retry_at
            else:
                row.status = "failed"
            return row.status  # type: ignore[return-value]

        return run_write(self._sessions, work)

    def page(
        self, session_id: int, status: DeliveryStatus | None, offset: int, limit: int
    ) -> Page[DeliveryRecord]:
        conditions = [_Delivery.session_id == session_id]
        if status is not None:
            conditions.append(_Delivery.status == status)

        def work(session: Session) -> Page[DeliveryRecord]:
            total = session.scalar(select(func.count(_Delivery.id)).where(*conditions)) or 0
            rows = session.execute(
                select(_Delivery, SessionEvent)
                .join(SessionEvent, SessionEvent.id == _Delivery.event_row_id)
                .where(*conditions)
                .order_by(_Delivery.id)
                .offset(offset)
                .limit(limit)
            ).all()
            items = [delivery_record(d, e) for d, e in rows]
            return Page(items=items, total=int(total), offset=offset, limit=limit)

        return run_read(self._sessions, work)

    def get(self, session_id: int, delivery_id: int) -> tuple[DeliveryRecord, list[AttemptRecord]]:
        def work(session: Session) -> tuple[DeliveryRecord, list[AttemptRecord]]:
            row = session.get(_Delivery, delivery_id) if is_storable_id(delivery_id) else None
            if row is None or row.session_id != session_id:
                raise NotFoundError(f"delivery {delivery_id} not found in session {session_id}")
            event = session.get_one(SessionEvent, row.event_row_id)
            attempts = session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id == row.id)
                .order_by(WebhookAttempt.attempt)
            )
            return delivery_record(row, event), [record_from(AttemptRecord, a) for a in attempts]

        return run_read(self._sessions, work)

    def replay(
        self, session_id: int, event_id: str, audit: AuditFor[DeliveryRecord]
    ) -> DeliveryRecord:
        """Queue the event once more (a new delivery, same event id and body), audited in
        the same transaction."""

        def work(session: Session) -> DeliveryRecord:
            owner = _webhook_session(session, session_id)
            event = session.scalar(
                select(SessionEvent).where(
                    SessionEvent.event_id == event_id, SessionEvent.session_id == session_id
                )
            )
            if event is None:
                raise NotFoundError(f"event {event_id!r} not found in session {session_id}")
            now = utcnow()
            row = new_delivery(owner, event, now, self._retry_for_s, replay=True)
            session.add(row)
            session.flush()
            return audited(session, delivery_record(row, event), audit, now)

        return run_write(self._sessions, work)

    def replay_failed(self, session_id: int, audit: AuditFor[int]) -> int:
        """Give every delivery that gave up a fresh retry window, audited in the same
        transaction; returns how many."""

        def work(session: Session) -> int:
            _webhook_session(session, session_id)
            now = utcnow()
            result = session.execute(
                update(_Delivery)
                .where(_Delivery.session_id == session_id, _Delivery.status == "failed")
                .values(
                    status="pending",
                    next_attempt_at=now,
                    lease_until=None,
                    deadline_at=now + timedelta(seconds=self._retry_for_s),
                )
            )
            return audited(session, int(result.rowcount), audit, now)  # type: ignore[attr-defined]

        return run_write(self._sessions, work)

    def counts(self, session_id: int) -> dict[str, int]:
        """Number of deliveries per status."""
        at_session = _Delivery.session_id == session_id
        return run_read(self._sessions, lambda s: count_by(s, _Delivery.status, at_session))


def _webhook_session(session: Session, session_id: int) -> LiveSession:
    owner = _get(session, session_id)
    if not owner.webhook_url:
        raise ValidationFailedError(f"session {session_id} has no webhook", session_id=session_id)
    return owner

"""Session rows <-> records, and the writes several session repositories share."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facebank.store.session_records import (
    CameraRecord,
    DeliveryRecord,
    EventRecord,
    NewEvent,
    SessionMode,
    SessionPersonRecord,
    SessionRecord,
    SessionStatus,
    Sighting,
)
from facebank.store.tables import (
    LiveSession,
    SessionCamera,
    SessionEvent,
    SessionPerson,
    WebhookDelivery,
)

RECOGNITION = "recognition"


def camera_record(row: SessionCamera) -> CameraRecord:
    return CameraRecord(
        id=row.id,
        session_id=row.session_id,
        position=row.position,
        name=row.name,
        url=row.url,
        target_fps=float(row.target_fps),
        loop=bool(row.loop),
        status=row.status,
        failures=row.failures,
        last_error=row.last_error,
    )


def session_record(row: LiveSession, cameras: Iterable[SessionCamera]) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        key=row.key,
        status=cast(SessionStatus, row.status),
        reason=row.reason,
        mode=cast(SessionMode, row.mode),
        threshold=float(row.threshold),
        cooldown_s=float(row.cooldown_s),
        roster=None if row.roster is None else tuple(int(p) for p in row.roster),
        ends_at=row.ends_at,
        webhook_url=row.webhook_url,
        evidence=bool(row.evidence),
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
        cameras=tuple(camera_record(c) for c in sorted(cameras, key=lambda c: c.position)),
    )


def load_session(session: Session, row: LiveSession) -> SessionRecord:
    cameras = session.scalars(select(SessionCamera).where(SessionCamera.session_id == row.id))
    return session_record(row, cameras)


def event_record(row: SessionEvent) -> EventRecord:
    return EventRecord(
        seq=row.id,
        event_id=row.event_id,
        session_id=row.session_id,
        type=row.type,
        camera_id=row.camera_id,
        person_id=row.person_id,
        payload=copy.deepcopy(row.payload),
        evidence=bool(row.evidence),
        created_at=row.created_at,
    )


def delivery_record(row: WebhookDelivery, event: SessionEvent) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        session_id=row.session_id,
        event_id=event.event_id,
        event_type=event.type,
        url=row.url,
        status=row.status,  # type: ignore[arg-type]
        replay=bool(row.replay),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        deadline_at=row.deadline_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


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
    row = SessionEvent(
        event_id=new.event_id,
        session_id=owner.id,
        type=new.type,
        camera_id=new.camera_id,
        person_id=new.person_id,
        payload=copy.deepcopy(new.payload),
        evidence=new.evidence,
        created_at=new.created_at,
    )
    session.add(row)
    session.flush()
    if owner.webhook_url:
        session.add(new_delivery(owner, row, new.created_at, retry_for_s))
        session.flush()
    return event_record(row)


def merge_sightings(session: Session, session_id: int, sightings: Sequence[Sighting]) -> None:
    """Fold seen-statistics into the summary rows. One writer per session (its runtime), so
    read-then-write under the row lock is enough."""
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
    counts = dict(
        session.execute(
            select(SessionEvent.person_id, func.count(SessionEvent.id))
            .where(SessionEvent.session_id == session_id, SessionEvent.type == RECOGNITION)
            .group_by(SessionEvent.person_id)
        ).all()
    )
    rows = session.scalars(
        select(SessionPerson)
        .where(SessionPerson.session_id == session_id)
        .order_by(SessionPerson.first_seen, SessionPerson.person_id)
    )
    return [
        SessionPersonRecord(
            person_id=row.person_id,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            sightings=row.sightings,
            events=int(counts.get(row.person_id, 0)),
            best_score=float(row.best_score),
        )
        for row in rows
    ]

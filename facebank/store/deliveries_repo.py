"""Webhook deliveries: claim the due ones under a lease, record attempts, list, replay.

A claimed delivery carries a lease rather than a "sending" status: if the process dies
mid-send the lease simply runs out and the delivery is due again (at-least-once; receivers
de-duplicate by event id). Claims skip rows another worker has locked, so several workers or
processes can share the table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from facebank.errors import NotFoundError, ValidationFailedError
from facebank.store.coltypes import utcnow
from facebank.store.records import Page
from facebank.store.session_mapping import delivery_record, new_delivery
from facebank.store.session_records import (
    AttemptRecord,
    AttemptResult,
    DeliveryJob,
    DeliveryRecord,
    DeliveryStatus,
    clip,
)
from facebank.store.tables import LiveSession, SessionEvent, WebhookAttempt, WebhookDelivery
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id

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
            return delivery_record(row, event), [
                AttemptRecord(a.attempt, a.at, a.status_code, a.error, float(a.duration_ms))
                for a in attempts
            ]

        return run_read(self._sessions, work)

    def replay(self, session_id: int, event_id: str) -> DeliveryRecord:
        """Queue the event once more (a new delivery, same event id and body)."""

        def work(session: Session) -> DeliveryRecord:
            owner = _webhook_session(session, session_id)
            event = session.scalar(
                select(SessionEvent).where(
                    SessionEvent.event_id == event_id, SessionEvent.session_id == session_id
                )
            )
            if event is None:
                raise NotFoundError(f"event {event_id!r} not found in session {session_id}")
            row = new_delivery(owner, event, utcnow(), self._retry_for_s, replay=True)
            session.add(row)
            session.flush()
            return delivery_record(row, event)

        return run_write(self._sessions, work)

    def replay_failed(self, session_id: int) -> int:
        """Give every delivery that gave up a fresh retry window; returns how many."""

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
            return int(result.rowcount)  # type: ignore[attr-defined]

        return run_write(self._sessions, work)

    def counts(self, session_id: int) -> dict[str, int]:
        def work(session: Session) -> dict[str, int]:
            rows = session.execute(
                select(_Delivery.status, func.count(_Delivery.id))
                .where(_Delivery.session_id == session_id)
                .group_by(_Delivery.status)
            ).all()
            return {str(status): int(n) for status, n in rows}

        return run_read(self._sessions, work)


def _webhook_session(session: Session, session_id: int) -> LiveSession:
    owner = session.get(LiveSession, session_id) if is_storable_id(session_id) else None
    if owner is None:
        raise NotFoundError(f"session {session_id} not found", session_id=session_id)
    if not owner.webhook_url:
        raise ValidationFailedError(f"session {session_id} has no webhook", session_id=session_id)
    return owner


def _job(delivery: WebhookDelivery, event: SessionEvent, secret: str | None) -> DeliveryJob:
    return DeliveryJob(
        delivery_id=delivery.id,
        event_id=event.event_id,
        event_type=event.type,
        url=delivery.url,
        secret=secret or "",
        payload=dict(event.payload),
        attempts=delivery.attempts,
        deadline_at=delivery.deadline_at,
        replay=bool(delivery.replay),
    )

"""JSON shapes of /api/v1/sessions: the request is the service's own (`SessionStart`),
the answers read the store's records and the manager's live numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from facebank.api.answers import FromRecord, PageOut
from facebank.services.sessions import CameraIn, SeenPerson, SessionStart, SessionView, WebhookIn
from facebank.sessions.camera_job import CameraStats
from facebank.sessions.events import summary_person
from facebank.sessions.sources import redact
from facebank.store.sessions import (
    AttemptRecord,
    CameraRecord,
    DeliveryRecord,
    EventRecord,
    SessionRecord,
)

__all__ = ["CameraIn", "SessionStart", "WebhookIn"]  # the request models, served as they are


class CameraOut(BaseModel):
    id: int
    name: str
    url: str = Field(description="password removed")
    status: str
    target_fps: float
    loop: bool
    fps: float | None = Field(description="measured frames analysed per second (live only)")
    capture_fps: float | None
    frames_read: int | None
    frames_processed: int | None
    frames_dropped: int | None
    faces_embedded: int | None
    failures: int
    last_error: str | None


class PersonSeenOut(BaseModel):
    person_id: int
    name: str | None
    external_id: str | None
    first_seen: datetime
    last_seen: datetime
    sightings: int = Field(description="times the person was confirmed on a new track")
    events: int = Field(description="recognition events reported")
    best_score: float


class WebhookOut(BaseModel):
    url: str
    deliveries: dict[str, int]


class SessionBrief(FromRecord):
    id: int
    key: str
    status: str
    reason: str | None
    mode: str
    threshold: float
    cooldown_s: float
    roster: list[int] | None
    ends_at: datetime | None
    evidence: bool
    unknown_events: bool
    created_at: datetime
    ended_at: datetime | None


class SessionOut(SessionBrief):
    webhook: WebhookOut | None
    cameras: list[CameraOut]
    people: list[PersonSeenOut]
    events: dict[str, int] = Field(description="number of events per type")


class SessionsPage(PageOut):
    items: list[SessionBrief]


class EventOut(BaseModel):
    seq: int = Field(description="increases with every event: the paging cursor")
    id: str
    type: str
    created_at: datetime
    session_id: int
    data: dict[str, Any]
    evidence: dict[str, str] | None = Field(description="download URLs of the kept images")


class EventsPage(BaseModel):
    items: list[EventOut]
    next_after: int = Field(description="pass as `after` for the next page")
    has_more: bool


class DeliveryOut(DeliveryRecord):
    pass


class AttemptOut(AttemptRecord):
    pass


class DeliveryDetail(DeliveryOut):
    attempt_log: list[AttemptOut]


class DeliveriesPage(PageOut):
    items: list[DeliveryOut]


class ReplayedOut(BaseModel):
    requeued: int


# ---- conversions -------------------------------------------------------------------------


def brief(record: SessionRecord) -> SessionBrief:
    return SessionBrief.model_validate(record)


def session_out(view: SessionView) -> SessionOut:
    record = view.record
    live = {c.id: c for c in view.cameras or []}
    webhook = None
    if record.webhook_url is not None:
        webhook = WebhookOut(url=redact(record.webhook_url), deliveries=view.deliveries or {})
    return SessionOut(
        **brief(record).model_dump(),
        webhook=webhook,
        cameras=[camera_out(c, live.get(c.id)) for c in record.cameras],
        people=[person_seen(p) for p in view.people],
        events=view.event_counts,
    )


def camera_out(camera: CameraRecord, live: CameraStats | None) -> CameraOut:
    """The live numbers while the camera runs here (or ran here last), else what the store
    knows; the live-only numbers are then null."""
    source = camera if live is None else live
    values = {name: getattr(source, name, None) for name in CameraOut.model_fields}
    return CameraOut(**values | {"url": redact(camera.url), "loop": camera.loop})


def person_seen(item: SeenPerson) -> PersonSeenOut:
    # The same person summary the session's final webhook event carries.
    return PersonSeenOut.model_validate(summary_person(item.seen, item.person))


def event_out(event: EventRecord) -> EventOut:
    evidence = None
    if event.evidence:
        base = f"/api/v1/sessions/{event.session_id}/events/{event.event_id}/evidence"
        evidence = {kind: f"{base}/{kind}" for kind in event.payload["data"].get("evidence", [])}
    return EventOut(
        seq=event.seq,
        id=event.event_id,
        type=event.type,
        created_at=event.created_at,
        session_id=event.session_id,
        data=event.payload["data"],
        evidence=evidence,
    )


def delivery_out(delivery: DeliveryRecord) -> DeliveryOut:
    return DeliveryOut.model_validate(delivery)


def delivery_detail(delivery: DeliveryRecord, attempts: list[AttemptRecord]) -> DeliveryDetail:
    return DeliveryDetail.model_validate({**delivery.model_dump(), "attempt_log": attempts})

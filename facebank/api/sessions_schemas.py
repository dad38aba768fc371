"""JSON shapes of /api/v1/sessions, and conversions from the service's values."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from facebank.services.sessions import CameraInput, SeenPerson, SessionView, StartSession
from facebank.sessions.camera_job import CameraStats
from facebank.sessions.sources import redact
from facebank.store.sessions import (
    AttemptRecord,
    CameraRecord,
    DeliveryRecord,
    EventRecord,
    SessionRecord,
)


class CameraIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        min_length=1,
        max_length=2000,
        description="rtsp://, http(s):// (MJPEG or any FFmpeg stream), a video file path "
        "(or file:// URL), or a local device index such as \"0\"",
    )
    name: str | None = Field(None, min_length=1, max_length=100)
    fps: float | None = Field(None, gt=0, le=120, description="frames per second to analyse")
    loop: bool = Field(False, description="video files only: start over at the end")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000)
    secret: str = Field(
        min_length=16, max_length=256, description="signs every delivery; never shown again"
    )


class SessionStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=128, description="external key, e.g. a slot id")
    cameras: list[CameraIn] = Field(min_length=1)
    mode: Literal["once", "every"] = "once"
    roster: list[int] | None = Field(None, description="person ids; omitted = whole gallery")
    threshold: float | None = Field(None, ge=-1.0, le=1.0)
    cooldown_s: float | None = Field(None, ge=0, description="`every` mode, per person")
    ends_at: AwareDatetime | None = None
    webhook: WebhookIn | None = None
    evidence: bool | None = Field(None, description="keep face crop and frame per recognition")

    def to_request(self) -> StartSession:
        return StartSession(
            key=self.key,
            cameras=[CameraInput(c.url, c.name, c.fps, c.loop) for c in self.cameras],
            mode=self.mode,
            roster=self.roster,
            threshold=self.threshold,
            cooldown_s=self.cooldown_s,
            ends_at=self.ends_at,
            webhook_url=self.webhook.url if self.webhook else None,
            webhook_secret=self.webhook.secret if self.webhook else None,
            evidence=self.evidence,
        )


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


class SessionBrief(BaseModel):
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
    created_at: datetime
    ended_at: datetime | None


class SessionOut(SessionBrief):
    webhook: WebhookOut | None
    cameras: list[CameraOut]
    people: list[PersonSeenOut]
    events: dict[str, int] = Field(description="number of events per type")


class SessionsPage(BaseModel):
    items: list[SessionBrief]
    total: int
    page: int
    page_size: int
    pages: int


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


class DeliveryOut(BaseModel):
    id: int
    event_id: str
    event_type: str
    url: str
    status: str
    replay: bool
    attempts: int
    next_attempt_at: datetime
    deadline_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class AttemptOut(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryDetail(DeliveryOut):
    attempt_log: list[AttemptOut]


class DeliveriesPage(BaseModel):
    items: list[DeliveryOut]
    total: int
    page: int
    page_size: int
    pages: int


class ReplayedOut(BaseModel):
    requeued: int


# ---- conversions -------------------------------------------------------------------------


def brief(record: SessionRecord) -> SessionBrief:
    return SessionBrief(
        id=record.id,
        key=record.key,
        status=record.status,
        reason=record.reason,
        mode=record.mode,
        threshold=record.threshold,
        cooldown_s=record.cooldown_s,
        roster=list(record.roster) if record.roster is not None else None,
        ends_at=record.ends_at,
        evidence=record.evidence,
        created_at=record.created_at,
        ended_at=record.ended_at,
    )


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
    return CameraOut(
        id=camera.id,
        name=camera.name,
        url=redact(camera.url),
        status=live.status if live else camera.status,
        target_fps=camera.target_fps,
        loop=camera.loop,
        fps=live.fps if live else None,
        capture_fps=live.capture_fps if live else None,
        frames_read=live.frames_read if live else None,
        frames_processed=live.frames_processed if live else None,
        frames_dropped=live.frames_dropped if live else None,
        faces_embedded=live.faces_embedded if live else None,
        failures=live.failures if live else camera.failures,
        last_error=live.last_error if live else camera.last_error,
    )


def person_seen(item: SeenPerson) -> PersonSeenOut:
    seen, person = item.seen, item.person
    return PersonSeenOut(
        person_id=seen.person_id,
        name=person.name if person else None,
        external_id=person.external_id if person else None,
        first_seen=seen.first_seen,
        last_seen=seen.last_seen,
        sightings=seen.sightings,
        events=seen.events,
        best_score=round(seen.best_score, 5),
    )


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
    return DeliveryOut(**{name: getattr(delivery, name) for name in DeliveryOut.model_fields})


def delivery_detail(delivery: DeliveryRecord, attempts: list[AttemptRecord]) -> DeliveryDetail:
    return DeliveryDetail(
        **delivery_out(delivery).model_dump(),
        attempt_log=[AttemptOut(**a.__dict__) for a in attempts],
    )

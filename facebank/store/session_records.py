"""Plain values for live sessions crossing the store boundary (no ORM objects, no secrets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from facebank.errors import ValidationFailedError
from facebank.store.validation import check_length, check_text_key

SessionMode = Literal["once", "every"]
SessionStatus = Literal["active", "ended", "failed"]
DeliveryStatus = Literal["pending", "delivered", "failed"]

KEY_MAX = 128
URL_MAX = 2000
CAMERA_NAME_MAX = 100
SECRET_MAX = 256
TEXT_MAX = 1000


def clip(text: str | None, limit: int = TEXT_MAX) -> str | None:
    """Error texts come from drivers and servers: cut them to the column size."""
    return None if text is None else text[:limit]


@dataclass(frozen=True)
class NewCamera:
    url: str
    name: str
    target_fps: float
    loop: bool = False

    def __post_init__(self) -> None:
        check_length("camera url", self.url, URL_MAX)
        check_length("camera name", self.name, CAMERA_NAME_MAX)
        if not self.url.strip():
            raise ValidationFailedError("camera url must not be empty", field="url")


@dataclass(frozen=True)
class NewSession:
    key: str
    mode: SessionMode
    threshold: float
    cooldown_s: float
    cameras: tuple[NewCamera, ...]
    roster: tuple[int, ...] | None = None
    ends_at: datetime | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    evidence: bool = True

    def __post_init__(self) -> None:
        check_text_key("key", self.key, KEY_MAX)
        if self.webhook_url is not None:
            check_length("webhook url", self.webhook_url, URL_MAX)
        if self.webhook_secret is not None:
            check_length("webhook secret", self.webhook_secret, SECRET_MAX)
        if not self.cameras:
            raise ValidationFailedError("a session needs at least one camera", field="cameras")

    def __repr__(self) -> str:  # the secret must never reach a log line
        return f"NewSession(key={self.key!r}, mode={self.mode!r}, cameras={len(self.cameras)})"


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
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None
    cameras: tuple[CameraRecord, ...]


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
class Sighting:
    """Seen-statistics of one person to merge into the session summary."""

    person_id: int
    first_seen: datetime
    last_seen: datetime
    new_sightings: int
    best_score: float


@dataclass(frozen=True)
class SessionPersonRecord:
    person_id: int
    first_seen: datetime
    last_seen: datetime
    sightings: int  # confirmed tracks
    events: int  # recognition events reported
    best_score: float


@dataclass(frozen=True)
class DeliveryRecord:
    id: int
    session_id: int
    event_id: str
    event_type: str
    url: str
    status: DeliveryStatus
    replay: bool
    attempts: int
    next_attempt_at: datetime
    deadline_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True)
class AttemptRecord:
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


@dataclass(frozen=True)
class AttemptResult:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

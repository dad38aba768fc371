"""The events a session reports, as the JSON bodies webhooks receive.

Every body has the same envelope: {"id", "type", "created_at", "session": {"id", "key"},
"data": {...}}. `id` is unique per event and stays the same on every retry and replay.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from facebank.pipeline.types import Detection
from facebank.sessions.unknown_sink import KeptUnknown
from facebank.store.people import PersonRecord
from facebank.store.sessions import (
    RECOGNITION,
    CameraRecord,
    NewEvent,
    SessionPersonRecord,
    SessionRecord,
)

STARTED = "session.started"
CAMERA_FAILED = "session.camera_failed"
CAMERA_RECOVERED = "session.camera_recovered"
ENDED = "session.ended"
FAILED = "session.failed"
UNKNOWN_CREATED = "unknown.cluster_created"
UNKNOWN_GREW = "unknown.cluster_grew"
# Where the API serves an unknown face's crop (the unknowns routes).
UNKNOWN_FACE_IMAGE = "/api/v1/unknowns/faces/{face_id}/image"
# The one list of event types (the API's `type` filter is this Literal).
EventType = Literal[
    "recognition",
    "session.started",
    "session.camera_failed",
    "session.camera_recovered",
    "session.ended",
    "session.failed",
    "unknown.cluster_created",
    "unknown.cluster_grew",
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)
assert set(EVENT_TYPES) == {
    RECOGNITION, STARTED, CAMERA_FAILED, CAMERA_RECOVERED, ENDED, FAILED, UNKNOWN_CREATED,
    UNKNOWN_GREW,
}  # fmt: skip
EvidenceKind = Literal["face", "frame"]
EVIDENCE_KINDS: tuple[str, ...] = get_args(EvidenceKind)


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _event(
    kind: str,
    session: SessionRecord,
    data: dict[str, Any],
    at: datetime,
    event_id: str | None = None,
    **columns: Any,
) -> NewEvent:
    event_id = event_id or new_event_id()
    payload = {
        "id": event_id,
        "type": kind,
        "created_at": iso(at),
        "session": {"id": session.id, "key": session.key},
        "data": data,
    }
    return NewEvent(event_id=event_id, type=kind, payload=payload, created_at=at, **columns)


def _camera(camera: CameraRecord) -> dict[str, Any]:
    return {"id": camera.id, "name": camera.name}


def started(session: SessionRecord, at: datetime) -> NewEvent:
    data = {
        "status": session.status,
        "mode": session.mode,
        "threshold": session.threshold,
        "cooldown_s": session.cooldown_s,
        "roster": list(session.roster) if session.roster is not None else None,
        "ends_at": iso(session.ends_at) if session.ends_at else None,
        "cameras": [_camera(c) for c in session.cameras],
    }
    return _event(STARTED, session, data, at)


def camera_changed(
    session: SessionRecord, camera: CameraRecord, failed: bool, error: str | None, at: datetime
) -> NewEvent:
    data = {"camera": _camera(camera), "error": error}
    kind = CAMERA_FAILED if failed else CAMERA_RECOVERED
    return _event(kind, session, data, at, camera_id=camera.id)


def ended(
    session: SessionRecord,
    people: list[SessionPersonRecord],
    names: Mapping[int, PersonRecord],
    at: datetime,
) -> NewEvent:
    data = {
        "status": session.status,
        "reason": session.reason,
        "people": [summary_person(p, names.get(p.person_id)) for p in people],
    }
    return _event(FAILED if session.status == "failed" else ENDED, session, data, at)


def summary_person(seen: SessionPersonRecord, person: PersonRecord | None) -> dict[str, Any]:
    return {
        **_person(seen.person_id, person),
        "first_seen": iso(seen.first_seen),
        "last_seen": iso(seen.last_seen),
        "sightings": seen.sightings,
        "events": seen.events,
        "best_score": round(seen.best_score, 5),
    }


def _person(person_id: int, person: PersonRecord | None) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "name": person.name if person else None,
        "external_id": person.external_id if person else None,
    }


def recognition(
    session: SessionRecord,
    camera: CameraRecord,
    event_id: str,
    person_id: int,
    person: PersonRecord | None,
    score: float,
    detection: Detection,
    seen_at: datetime,
    evidence: bool,
    at: datetime,
) -> NewEvent:
    data = {
        "person": _person(person_id, person),
        "score": round(score, 5),
        "camera": _camera(camera),
        "seen_at": iso(seen_at),
        "box": [round(float(v), 1) for v in detection.box],
        "evidence": list(EVIDENCE_KINDS) if evidence else [],
    }
    return _event(
        RECOGNITION,
        session,
        data,
        at,
        event_id=event_id,
        camera_id=camera.id,
        person_id=person_id,
        evidence=evidence,
    )


def unknown_cluster(
    session: SessionRecord,
    camera: CameraRecord,
    kept: KeptUnknown,
    seen_at: datetime,
    at: datetime,
) -> NewEvent:
    """A never-enrolled face was kept: it started a cluster, or joined one."""
    data = {
        "cluster_id": kept.cluster_id,
        "cluster_size": kept.cluster_size,
        "face_id": kept.face_id,
        "image": UNKNOWN_FACE_IMAGE.format(face_id=kept.face_id),
        "camera": _camera(camera),
        "seen_at": iso(seen_at),
    }
    kind = UNKNOWN_CREATED if kept.created else UNKNOWN_GREW
    return _event(kind, session, data, at, camera_id=camera.id)

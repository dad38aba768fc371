"""Live session use cases: start, list, read, stop, events, evidence, deliveries, replay."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from facebank.config import Settings
from facebank.errors import NotFoundError, ValidationFailedError
from facebank.observability.sessions import CameraStatus, SessionsSnapshot
from facebank.pipeline.pipeline import FacePipeline
from facebank.sessions import events
from facebank.sessions.camera_job import CameraStats
from facebank.sessions.evidence import EvidenceStore
from facebank.sessions.manager import SessionManager
from facebank.sessions.observer import SessionObserver
from facebank.sessions.policy import SessionPolicies
from facebank.sessions.recognizer import FaceSearcher
from facebank.sessions.runner_lock import RunnerLock
from facebank.sessions.runtime import RuntimeDeps
from facebank.sessions.scheduler import FrameScheduler
from facebank.sessions.sources import check_file_exists, parse_source
from facebank.sessions.webhooks import WebhookDeliverer
from facebank.store.paging import Page
from facebank.store.people import PeopleRepository, PersonRecord
from facebank.store.sessions import (
    AttemptRecord,
    DeliveryRecord,
    DeliveryRepository,
    DeliveryStatus,
    EventRecord,
    EventRepository,
    NewCamera,
    NewSession,
    SessionMode,
    SessionPersonRecord,
    SessionRecord,
    SessionRepository,
    SessionStatus,
)
from facebank.store.tx import SessionFactory

MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class CameraInput:
    url: str
    name: str | None = None
    fps: float | None = None
    loop: bool = False


@dataclass(frozen=True)
class StartSession:
    key: str
    cameras: list[CameraInput]
    mode: SessionMode = "once"
    roster: list[int] | None = None
    threshold: float | None = None
    cooldown_s: float | None = None
    ends_at: datetime | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    evidence: bool | None = None

    def __repr__(self) -> str:  # keeps the webhook secret out of logs and tracebacks
        return f"StartSession(key={self.key!r}, cameras={len(self.cameras)})"


@dataclass(frozen=True)
class SeenPerson:
    seen: SessionPersonRecord
    person: PersonRecord | None  # None once the person was deleted


@dataclass(frozen=True)
class SessionView:
    record: SessionRecord
    cameras: list[CameraStats] | None  # live numbers; None when not running in this process
    people: list[SeenPerson]
    event_counts: dict[str, int]
    deliveries: dict[str, int] | None  # per status; None without a webhook


class SessionService:
    def __init__(
        self,
        settings: Settings,
        manager: SessionManager,
        sessions: SessionRepository,
        events_repo: EventRepository,
        deliveries: DeliveryRepository,
        people: PeopleRepository,
        evidence: EvidenceStore,
    ) -> None:
        self._settings = settings
        self._manager = manager
        self._sessions = sessions
        self._events = events_repo
        self._deliveries = deliveries
        self._people = people
        self._evidence = evidence

    @property
    def manager(self) -> SessionManager:
        return self._manager

    def resume(self) -> None:
        """Start the workers and resume the sessions the database says are active."""
        self._manager.start()

    def close(self) -> None:
        """Stop this process's cameras and deliveries; active sessions stay active."""
        self._manager.close()

    def start(self, request: StartSession) -> SessionView:
        new = self._validated(request)
        record, started = self._sessions.create(new, lambda r: events.started(r, r.created_at))
        self._manager.on_event(started)
        self._manager.launch(record)
        return self.get(record.id)

    def search(
        self, status: SessionStatus | None, key: str | None, offset: int, limit: int
    ) -> Page[SessionRecord]:
        return self._sessions.search(status, key, offset, limit)

    def get(self, session_id: int) -> SessionView:
        record = self._sessions.get(session_id)
        seen = self._sessions.people(session_id)
        names = self._people.get_many(p.person_id for p in seen)
        return SessionView(
            record=record,
            cameras=self._manager.cameras(session_id),
            people=[SeenPerson(p, names.get(p.person_id)) for p in seen],
            event_counts=self._events.counts(session_id),
            deliveries=self._deliveries.counts(session_id) if record.webhook_url else None,
        )

    def stop(self, session_id: int) -> SessionView:
        """End the session (idempotent) and return its final summary."""
        self._sessions.get(session_id)  # 404 before anything else
        self._manager.end(session_id, "ended", "stopped by request")
        return self.get(session_id)

    def events(
        self, session_id: int, after: int, limit: int, types: set[str] | None = None
    ) -> list[EventRecord]:
        self._sessions.get(session_id)
        return self._events.page(session_id, after, limit, types)

    def evidence(self, session_id: int, event_id: str, kind: str) -> Path:
        event = self._events.get(session_id, event_id)
        path = self._evidence.path(session_id, event.event_id, kind) if event.evidence else None
        if path is None:
            raise NotFoundError(
                f"no {kind} evidence for event {event_id} (none was kept, or it expired)"
            )
        return path

    def deliveries(
        self, session_id: int, status: DeliveryStatus | None, offset: int, limit: int
    ) -> Page[DeliveryRecord]:
        self._sessions.get(session_id)
        return self._deliveries.page(session_id, status, offset, limit)

    def delivery(
        self, session_id: int, delivery_id: int
    ) -> tuple[DeliveryRecord, list[AttemptRecord]]:
        return self._deliveries.get(session_id, delivery_id)

    def replay(self, session_id: int, event_id: str) -> DeliveryRecord:
        delivery = self._deliveries.replay(session_id, event_id)
        self._manager.deliverer.wake()
        return delivery

    def replay_failed(self, session_id: int) -> int:
        count = self._deliveries.replay_failed(session_id)
        self._manager.deliverer.wake()
        return count

    # ---- validation --------------------------------------------------------------------------

    def _validated(self, request: StartSession) -> NewSession:
        s = self._settings
        if not request.key.strip():
            raise ValidationFailedError("key must not be blank", field="key")
        if not 1 <= len(request.cameras) <= s.session_max_cameras:
            raise ValidationFailedError(
                f"a session needs 1 to {s.session_max_cameras} cameras", field="cameras"
            )
        if request.ends_at is not None and request.ends_at <= datetime.now(UTC):
            raise ValidationFailedError("ends_at is in the past", field="ends_at")
        return NewSession(
            key=request.key,
            mode=request.mode,
            threshold=s.match_threshold if request.threshold is None else request.threshold,
            cooldown_s=s.session_cooldown_s if request.cooldown_s is None else request.cooldown_s,
            cameras=tuple(self._camera(c, i) for i, c in enumerate(request.cameras)),
            roster=self._roster(request.roster),
            ends_at=request.ends_at,
            webhook_url=_webhook_url(request.webhook_url, request.webhook_secret),
            webhook_secret=request.webhook_secret if request.webhook_url else None,
            evidence=s.evidence_enabled if request.evidence is None else request.evidence,
        )

    def _camera(self, camera: CameraInput, position: int) -> NewCamera:
        source = parse_source(camera.url)
        check_file_exists(source)
        fps = self._settings.session_default_fps if camera.fps is None else camera.fps
        if not 0 < fps <= self._settings.session_max_fps:
            raise ValidationFailedError(
                f"camera fps must be in (0, {self._settings.session_max_fps}]", field="fps"
            )
        return NewCamera(camera.url, camera.name or f"camera-{position + 1}", fps, camera.loop)

    def _roster(self, roster: list[int] | None) -> tuple[int, ...] | None:
        if roster is None:
            return None
        wanted = sorted(set(roster))
        if not wanted:
            raise ValidationFailedError(
                "roster is empty: leave it out to look for everybody in the gallery",
                field="roster",
            )
        missing = sorted(set(wanted) - set(self._people.get_many(wanted)))
        if missing:
            raise ValidationFailedError(
                f"unknown person ids in roster: {missing[:20]}", field="roster", missing=missing
            )
        return tuple(wanted)


def _webhook_url(url: str | None, secret: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailedError("webhook url must be an http(s) URL", field="webhook.url")
    if secret is None or len(secret) < MIN_SECRET_LENGTH:
        raise ValidationFailedError(
            f"webhook secret must have at least {MIN_SECRET_LENGTH} characters",
            field="webhook.secret",
        )
    return url


class ManagerProbe:
    """The manager's live numbers in the shape /health/detailed and /metrics read."""

    def __init__(self, manager: SessionManager) -> None:
        self._manager = manager

    def snapshot(self) -> SessionsSnapshot:
        live = self._manager.snapshot()
        cameras = tuple(
            CameraStatus(key, c.name, c.status, c.fps, c.frames_dropped)
            for key, stats in live.cameras.items()
            for c in stats
        )
        return SessionsSnapshot(active_sessions=len(live.cameras), cameras=cameras)


def build_session_service(
    settings: Settings,
    session_factory: SessionFactory,
    pipeline: FacePipeline,
    searcher: FaceSearcher,
    people: PeopleRepository,
    run_inference: Callable[[Callable[[], None]], None],
    observer: SessionObserver,
) -> SessionService:
    """Everything live sessions need, wired once (called by the composition root)."""
    policies = SessionPolicies.from_settings(settings)
    retry_for = settings.webhook_retry_for_s
    sessions = SessionRepository(session_factory, retry_for)
    events_repo = EventRepository(session_factory, retry_for)
    deliveries = DeliveryRepository(session_factory, retry_for)
    evidence = EvidenceStore(
        policies.evidence.root, policies.evidence.jpeg_quality, policies.evidence.retention_days
    )
    deliverer = WebhookDeliverer(deliveries, policies.webhook, observer)
    deps = RuntimeDeps(
        pipeline=pipeline,
        searcher=searcher,
        people=people,
        sessions=sessions,
        events=events_repo,
        evidence=evidence,
        scheduler=FrameScheduler(policies.inference_threads, run_inference),
        policies=policies,
        on_event=lambda _event: deliverer.wake(),
        observer=observer,
    )
    manager = SessionManager(deps, deliverer, RunnerLock(settings.data_dir / "sessions.lock"))
    return SessionService(
        settings, manager, sessions, events_repo, deliveries, people, evidence
    )

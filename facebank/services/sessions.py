"""Live session use cases: start, list, read, stop, events, evidence, deliveries, replay.

The request to start a session is declared once, here (the API serves it as is), from the
store's field types. Every write takes the acting principal and leaves an audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from facebank.auth.clock import Clock, system_clock
from facebank.auth.principal import Principal
from facebank.config import Settings
from facebank.errors import NotFoundError, ValidationFailedError
from facebank.observability.sessions import CameraStatus, SessionsSnapshot
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.audit import Action, AuditService, Target, audit_entry
from facebank.sessions import events
from facebank.sessions.camera_job import CameraStats
from facebank.sessions.evidence import EvidenceStore
from facebank.sessions.leases import CameraLeases, LeasePolicy
from facebank.sessions.manager import SessionManager
from facebank.sessions.observer import SessionObserver
from facebank.sessions.policy import SessionPolicies
from facebank.sessions.recognizer import FaceSearcher
from facebank.sessions.runner_lock import RunnerLock
from facebank.sessions.runtime import RuntimeDeps
from facebank.sessions.scheduler import FrameScheduler
from facebank.sessions.sources import check_file_exists, parse_source
from facebank.sessions.unknown_sink import UnknownSink
from facebank.sessions.webhooks import WebhookDeliverer
from facebank.store.audit import NewAuditEntry
from facebank.store.db import DatabaseKind
from facebank.store.leases import LeaseRepository
from facebank.store.paging import Page
from facebank.store.people import PeopleRepository, PersonRecord
from facebank.store.sessions import (
    AttemptRecord,
    CameraName,
    Cooldown,
    DeliveryRecord,
    DeliveryRepository,
    DeliveryStatus,
    EventRecord,
    EventRepository,
    Fps,
    NewCamera,
    NewSession,
    SessionKey,
    SessionMode,
    SessionPersonRecord,
    SessionRecord,
    SessionRepository,
    SessionStatus,
    Threshold,
    Url,
    WebhookSecret,
)
from facebank.store.tx import SessionFactory

# --- the request ---------------------------------------------------------------------------


class CameraIn(BaseModel):
    """A camera to watch; the name and fps left out come from the settings."""

    model_config = ConfigDict(extra="forbid")

    url: Url = Field(
        description="rtsp://, http(s):// (MJPEG or any FFmpeg stream), a video file path "
        '(or file:// URL), or a local device index such as "0"',
    )
    name: CameraName | None = None
    fps: Fps | None = Field(None, description="frames per second to analyse")
    loop: bool = Field(False, description="video files only: start over at the end")


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    # Kept out of every repr: it must never reach a log line or a traceback.
    secret: WebhookSecret = Field(description="signs every delivery; never shown again", repr=False)


class SessionStart(BaseModel):
    """A session to start; what is left out comes from the settings."""

    model_config = ConfigDict(extra="forbid")

    key: SessionKey = Field(description="external key, e.g. a slot id")
    cameras: list[CameraIn] = Field(min_length=1)
    mode: SessionMode = "once"
    roster: list[int] | None = Field(None, description="person ids; omitted = whole gallery")
    threshold: Threshold | None = None
    cooldown_s: Cooldown | None = Field(None, description="`every` mode, per person")
    ends_at: AwareDatetime | None = None
    webhook: WebhookIn | None = None
    evidence: bool | None = Field(None, description="keep face crop and frame per recognition")
    unknown_events: bool = Field(
        False,
        description="also send unknown.cluster_created / unknown.cluster_grew events when a "
        "never-enrolled face is kept",
    )


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
        audit: AuditService,
        default_threshold: Callable[[], float],
    ) -> None:
        self._settings = settings
        # The threshold in force when a session starts without one: an applied calibration
        # or the configured default (facebank.services.thresholds).
        self._default_threshold = default_threshold
        self._manager = manager
        self._sessions = sessions
        self._events = events_repo
        self._deliveries = deliveries
        self._people = people
        self._evidence = evidence
        self._audit = audit

    @property
    def manager(self) -> SessionManager:
        return self._manager

    def resume(self) -> None:
        """Start the workers and resume the sessions the database says are active."""
        self._manager.start()

    def close(self) -> None:
        """Stop this process's cameras and deliveries; active sessions stay active."""
        self._manager.close()

    def start(self, actor: Principal, request: SessionStart) -> SessionView:
        new = self._validated(request)
        record, started = self._sessions.create(
            new,
            lambda r: events.started(r, r.created_at),
            lambda r: _entry(actor, Action.START, r.id, key=r.key, cameras=len(r.cameras)),
        )
        self._manager.on_event(started)
        self._manager.launch(record)
        return self.get(record.id)

    def search(
        self, statuses: Collection[SessionStatus], key: str | None, offset: int, limit: int
    ) -> Page[SessionRecord]:
        return self._sessions.search(statuses, key, offset, limit)

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

    def stop(self, actor: Principal, session_id: int) -> SessionView:
        """End the session (idempotent) and return its final summary. The end is stored by
        the manager (which also ends sessions on its own), so the entry follows it."""
        self._sessions.get(session_id)  # 404 before anything else
        record = self._manager.end(session_id, "ended", "stopped by request")
        self._audit.record_many([_entry(actor, Action.STOP, session_id, key=record.key)])
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

    def replay(self, actor: Principal, session_id: int, event_id: str) -> DeliveryRecord:
        delivery = self._deliveries.replay(
            session_id,
            event_id,
            lambda d: _entry(
                actor, Action.REPLAY, session_id, event_id=d.event_id, delivery_id=d.id
            ),
        )
        self._manager.deliverer.wake()
        return delivery

    def replay_failed(self, actor: Principal, session_id: int) -> int:
        count = self._deliveries.replay_failed(
            session_id,
            lambda n: _entry(actor, Action.REPLAY, session_id, requeued=n),
        )
        self._manager.deliverer.wake()
        return count

    # ---- validation --------------------------------------------------------------------------

    def _validated(self, request: SessionStart) -> NewSession:
        s = self._settings
        if not request.key.strip():
            raise ValidationFailedError("key must not be blank", field="key")
        if not 1 <= len(request.cameras) <= s.session_max_cameras:
            raise ValidationFailedError(
                f"a session needs 1 to {s.session_max_cameras} cameras", field="cameras"
            )
        if request.ends_at is not None and request.ends_at <= datetime.now(UTC):
            raise ValidationFailedError("ends_at is in the past", field="ends_at")
        webhook = request.webhook
        return NewSession(
            key=request.key,
            mode=request.mode,
            threshold=self._default_threshold() if request.threshold is None else request.threshold,
            cooldown_s=s.session_cooldown_s if request.cooldown_s is None else request.cooldown_s,
            cameras=tuple(self._camera(c, i) for i, c in enumerate(request.cameras)),
            roster=self._roster(request.roster),
            ends_at=request.ends_at,
            webhook_url=None if webhook is None else _webhook_url(webhook.url),
            webhook_secret=None if webhook is None else webhook.secret,
            evidence=s.evidence_enabled if request.evidence is None else request.evidence,
            unknown_events=request.unknown_events,
        )

    def _camera(self, camera: CameraIn, position: int) -> NewCamera:
        source = parse_source(camera.url)
        check_file_exists(source)
        fps = self._settings.session_default_fps if camera.fps is None else camera.fps
        if not 0 < fps <= self._settings.session_max_fps:
            raise ValidationFailedError(
                f"camera fps must be in (0, {self._settings.session_max_fps}]", field="fps"
            )
        name = camera.name or f"camera-{position + 1}"
        return NewCamera(url=camera.url, name=name, target_fps=fps, loop=camera.loop)

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


def _entry(actor: Principal, action: Action, session_id: int, **details: Any) -> NewAuditEntry:
    """An entry about a session: ids, counts and its key; never camera or webhook URLs (they
    may carry passwords)."""
    return audit_entry(actor, action, Target.SESSION, session_id, details)


def _webhook_url(url: str) -> str:
    # The secret's length is the field type's (WebhookSecret) business.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailedError("webhook url must be an http(s) URL", field="webhook.url")
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
    audit: AuditService,
    default_threshold: Callable[[], float],
    database: DatabaseKind = "sqlite",
    clock: Clock = system_clock,
    unknowns: UnknownSink | None = None,
) -> SessionService:
    """Everything live sessions need, wired once (called by the composition root). On
    SQLite one process per data directory runs the cameras (a file lock); on the server
    databases every process is a runner and cameras spread by leases. `unknowns` keeps the
    faces of tracks that end unknown (the unknowns service; None: they are not kept)."""
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
        unknowns=unknowns,
    )
    if database == "sqlite":
        manager = SessionManager(deps, deliverer, RunnerLock(settings.data_dir / "sessions.lock"))
    else:
        policy = LeasePolicy(settings.session_lease_renew_s, settings.session_lease_expiry_s)
        leases = CameraLeases(LeaseRepository(session_factory), policy, clock)
        manager = SessionManager(deps, deliverer, leases=leases)
    return SessionService(
        settings, manager, sessions, events_repo, deliveries, people, evidence, audit,
        default_threshold,
    )  # fmt: skip

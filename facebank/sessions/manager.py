"""Runs the sessions of this process: resume after restart, launch, end, supervise.

It owns the shared parts: one frame scheduler for every camera of every session, one
webhook deliverer, the evidence store, and a supervisor thread that ends sessions (end
time, all cameras gone), flushes statistics and applies evidence retention.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from facebank.sessions import events
from facebank.sessions.camera_job import CameraStats
from facebank.sessions.evidence import EvidenceStore
from facebank.sessions.runtime import RuntimeDeps, SessionRuntime
from facebank.sessions.webhooks import DeliveryCounters, WebhookDeliverer
from facebank.store.session_records import (
    EventRecord,
    NewEvent,
    SessionPersonRecord,
    SessionRecord,
    SessionStatus,
)

log = logging.getLogger(__name__)

SUPERVISE_EVERY_S = 0.5
FLUSH_EVERY_S = 2.0
SWEEP_EVERY_S = 3600.0


@dataclass(frozen=True)
class ManagerSnapshot:
    """Everything a metrics exporter needs, read at scrape time."""

    cameras: dict[str, list[CameraStats]]  # session key -> its cameras
    deliveries: DeliveryCounters
    inference_threads: int


class SessionManager:
    def __init__(self, deps: RuntimeDeps, deliverer: WebhookDeliverer) -> None:
        """`deps.on_event` should wake `deliverer` (see facebank.services.sessions)."""
        self._deps = deps
        self._scheduler = deps.scheduler
        self.deliverer = deliverer
        self._evidence: EvidenceStore = deps.evidence
        self._runtimes: dict[int, SessionRuntime] = {}
        # Sessions whose cameras are stopped but whose end could not be stored yet (database
        # down): the supervisor retries until it is.
        self._unfinished: dict[int, tuple[SessionStatus, str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the shared workers, then resume every session the database says is active."""
        self._scheduler.start()
        self.deliverer.start()
        for record in self._deps.sessions.active():
            self.launch(record)
        if self._runtimes:
            log.info("resumed %d active sessions", len(self._runtimes))
        self._supervisor = threading.Thread(
            target=self._supervise, name="session-supervisor", daemon=True
        )
        self._supervisor.start()

    def close(self) -> None:
        """Stop this process's work without ending sessions: they resume on the next start."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=30)
        with self._lock:
            runtimes, self._runtimes = list(self._runtimes.values()), {}
        for runtime in runtimes:
            runtime.stop()
        self._scheduler.close()
        self.deliverer.close()

    # ---- sessions --------------------------------------------------------------------------

    def launch(self, record: SessionRecord) -> None:
        runtime = SessionRuntime(record, self._deps, self._deps.events.last_reported(record.id))
        with self._lock:
            if record.id in self._runtimes:
                return
            self._runtimes[record.id] = runtime
        runtime.start()
        self.deliverer.wake()

    def end(self, session_id: int, status: SessionStatus, reason: str) -> SessionRecord:
        """Stop the session's cameras (waiting for frames in flight) and record its end
        with the final summary event. Ending an ended session just returns it."""
        with self._lock:
            runtime = self._runtimes.pop(session_id, None)
            self._unfinished[session_id] = (status, reason)
        if runtime is not None:
            runtime.stop()
        seen = self._deps.sessions.people(session_id)
        names = self._deps.people.get_many(p.person_id for p in seen)

        def ended(record: SessionRecord, people: list[SessionPersonRecord]) -> NewEvent:
            return events.ended(record, people, names, self._deps.now())

        record, event = self._deps.sessions.finish(session_id, status, reason, ended)
        with self._lock:
            self._unfinished.pop(session_id, None)
        if event is not None:
            self.on_event(event)
        return record

    def cameras(self, session_id: int) -> list[CameraStats] | None:
        """Live camera statistics; None when the session is not running here."""
        with self._lock:
            runtime = self._runtimes.get(session_id)
        return runtime.cameras() if runtime else None

    def on_event(self, _: EventRecord) -> None:
        self.deliverer.wake()

    def snapshot(self) -> ManagerSnapshot:
        with self._lock:
            runtimes = list(self._runtimes.values())
        return ManagerSnapshot(
            cameras={r.record.key: r.cameras() for r in runtimes},
            deliveries=self.deliverer.counters,
            inference_threads=self._scheduler.threads,
        )

    # ---- supervisor ------------------------------------------------------------------------

    def _supervise(self) -> None:
        next_flush = next_sweep = time.monotonic()
        while True:
            with self._lock:
                runtimes = list(self._runtimes.values())
                unfinished = dict(self._unfinished)
            for runtime in runtimes:
                runtime.publish_metrics()
                self._maybe_end(runtime.id, runtime.end_reason())
            for session_id, reason in unfinished.items():
                self._maybe_end(session_id, reason)
            now = time.monotonic()
            if now >= next_flush:
                next_flush = now + FLUSH_EVERY_S
                for runtime in runtimes:
                    runtime.flush()
            if now >= next_sweep:
                next_sweep = now + SWEEP_EVERY_S
                self._sweep()
            if self._stop.wait(SUPERVISE_EVERY_S):
                return

    def _maybe_end(self, session_id: int, reason: tuple[SessionStatus, str] | None) -> None:
        if reason is None:
            return
        try:
            self.end(session_id, *reason)
        except Exception:
            log.exception("ending session %s failed; will try again", session_id)

    def _sweep(self) -> None:
        try:
            self._evidence.sweep()
        except OSError:
            log.exception("evidence retention sweep failed")

"""Runs the sessions of this process: resume after restart, launch, end, supervise.

It owns the shared parts: one frame scheduler for every camera of every session, one
webhook deliverer, the evidence store, and a supervisor thread that ends sessions (end
time, all cameras gone), flushes statistics, applies evidence retention, and keeps the
running sessions in step with the database (sessions started or stopped by the API of
another process). On SQLite only the process holding the runner lock does any of this; the
others stand by and take over when it dies. On PostgreSQL/MariaDB every process is a runner
and reads the cameras it holds leases on (facebank.sessions.leases), so cameras spread over
processes and machines and move when one dies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from facebank.sessions import events
from facebank.sessions.camera_job import CameraStats
from facebank.sessions.evidence import EvidenceStore
from facebank.sessions.leases import CameraLeases
from facebank.sessions.runner_lock import RunnerLock
from facebank.sessions.runtime import RuntimeDeps, SessionRuntime
from facebank.sessions.webhooks import DeliveryCounters, WebhookDeliverer
from facebank.store.sessions import (
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
SYNC_EVERY_S = 1.0
STANDBY_RETRY_S = 2.0
# Camera numbers of sessions that ended in this process, for their final summary; older ones
# are forgotten (the counters are not stored: they are about this process's run).
FINAL_STATS_KEPT = 256


@dataclass(frozen=True)
class ManagerSnapshot:
    """Everything a metrics exporter needs, read at scrape time."""

    cameras: dict[str, list[CameraStats]]  # session key -> its cameras
    deliveries: DeliveryCounters
    inference_threads: int


class SessionManager:
    def __init__(
        self,
        deps: RuntimeDeps,
        deliverer: WebhookDeliverer,
        lock: RunnerLock | None = None,
        leases: CameraLeases | None = None,
    ) -> None:
        """`deps.on_event` should wake `deliverer` (see facebank.services.sessions). With
        `leases` this manager runs the cameras it holds leases on; else, without a `lock`,
        it always runs every session."""
        self._deps = deps
        self._scheduler = deps.scheduler
        self.deliverer = deliverer
        self._evidence: EvidenceStore = deps.evidence
        self._runtimes: dict[int, SessionRuntime] = {}
        self._final: OrderedDict[int, list[CameraStats]] = OrderedDict()
        # Sessions ended by this process: never relaunched by a sync that read the database
        # just before their end was committed.
        self._ended: set[int] = set()
        self._lock_file = lock
        self._leases = leases
        self._running = False
        self._standby: threading.Thread | None = None
        # Sessions whose cameras are stopped but whose end could not be stored yet (database
        # down): the supervisor retries until it is.
        self._unfinished: dict[int, tuple[SessionStatus, str]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Run the sessions if this process gets the runner lock, else stand by for it."""
        if self._leases is not None:
            self._leases.start()
            self._begin()
            return
        if self._lock_file is None or self._lock_file.try_acquire():
            self._begin()
            return
        log.info("another process runs the live sessions of this data directory; standing by")
        self._standby = threading.Thread(target=self._wait_for_lock, name="session-standby",
                                         daemon=True)
        self._standby.start()

    def _wait_for_lock(self) -> None:
        assert self._lock_file is not None
        while not self._stop.wait(STANDBY_RETRY_S):
            if self._lock_file.try_acquire():
                log.info("taking over the live sessions")
                self._begin()
                return

    def _begin(self) -> None:
        """Start the shared workers, then resume every session the database says is active."""
        self._scheduler.start()
        self.deliverer.start()
        self._running = True
        for record in [] if self._leases else self._deps.sessions.active():
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
        if self._standby is not None:
            self._standby.join(timeout=30)
        if self._supervisor is not None:
            self._supervisor.join(timeout=30)
        with self._lock:
            runtimes, self._runtimes = list(self._runtimes.values()), {}
        for runtime in runtimes:
            runtime.stop()
        if self._running:
            self._scheduler.close()
            self.deliverer.close()
        if self._lock_file is not None:
            self._lock_file.release()
        if self._leases is not None:
            self._leases.close()  # after the cameras stopped: others may take them at once

    @property
    def runner_id(self) -> str | None:
        """This process's id among the runners (None without leases: SQLite)."""
        return None if self._leases is None else self._leases.runner_id

    # ---- sessions --------------------------------------------------------------------------

    def launch(self, record: SessionRecord) -> None:
        """Run a session here (in a standby process, or with leases: nothing yet, the
        runners' sync picks it up within a second)."""
        if self._running and self._leases is None:
            self._launch(record, None)

    def _launch(self, record: SessionRecord, camera_ids: set[int] | None) -> None:
        last = self._deps.events.last_reported(record.id)
        runtime = SessionRuntime(record, self._deps, last, camera_ids)
        with self._lock:
            if record.id in self._runtimes or record.id in self._ended:
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
            self._ended.add(session_id)
        if runtime is not None:
            runtime.stop()
            with self._lock:
                self._final[session_id] = runtime.cameras()
                while len(self._final) > FINAL_STATS_KEPT:
                    self._final.popitem(last=False)
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
        """Live camera statistics (the last ones for a session that ended in this process);
        None when the session neither runs nor ended here."""
        with self._lock:
            runtime = self._runtimes.get(session_id)
            final = self._final.get(session_id)
        return runtime.cameras() if runtime else final

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
        next_flush = next_sweep = next_sync = time.monotonic()
        while True:
            if time.monotonic() >= next_sync:
                next_sync = time.monotonic() + SYNC_EVERY_S
                self._sync()
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

    def _sync(self) -> None:
        """Run what the database says is active: launch sessions started by another process,
        stop those another process ended."""
        if self._leases is not None and not self._leases.valid():
            # Checked before anything else: the database may be unreachable from here.
            with self._lock:
                running = bool(self._runtimes)
            if running:
                log.warning("camera leases could not be renewed; stopping this runner's cameras")
                self._stop_runtimes(lambda _runtime: True)
            return
        try:
            active = {r.id: r for r in self._deps.sessions.active()}
        except Exception:
            log.exception("reading the active sessions failed; will try again")
            return
        if self._leases is not None:
            self._sync_leased(self._leases, active)
            return
        with self._lock:
            gone = [r for sid, r in self._runtimes.items() if sid not in active]
            for runtime in gone:
                del self._runtimes[runtime.id]
            new = [r for sid, r in active.items()
                   if sid not in self._runtimes and sid not in self._unfinished]
        for runtime in gone:
            log.info("session %s was ended by another process; stopping its cameras", runtime.id)
            runtime.stop()
        for record in new:
            self.launch(record)

    def _sync_leased(self, leases: CameraLeases, active: dict[int, SessionRecord]) -> None:
        """Apply the spreading rule, then run exactly the cameras this runner holds."""
        try:
            spread = leases.plan()
            self._remove_cameras(set(spread.release))
            leases.release(spread.release)  # only once they stopped here
            owned = (set(spread.held) - set(spread.release)) | leases.claim(spread.claim)
        except Exception:
            log.exception("spreading the cameras failed; will try again")
            return
        self._stop_runtimes(lambda runtime: runtime.id not in active)
        for record in active.values():
            self._run_owned(record, owned)

    def _run_owned(self, record: SessionRecord, owned: set[int]) -> None:
        want = {c.id for c in record.cameras} & owned
        with self._lock:
            if record.id in self._unfinished or record.id in self._ended:
                return
            runtime = self._runtimes.get(record.id)
        if runtime is None:
            if want:
                self._launch(record, want)
            return
        runtime.note_record(record)
        runtime.remove_cameras(runtime.camera_ids() - want - runtime.finished_ids())
        runtime.add_cameras(want - runtime.camera_ids())
        if not runtime.camera_ids():
            self._stop_runtimes(lambda r: r is runtime)

    def _remove_cameras(self, camera_ids: set[int]) -> None:
        if camera_ids:
            with self._lock:
                runtimes = list(self._runtimes.values())
            for runtime in runtimes:
                runtime.remove_cameras(camera_ids)

    def _stop_runtimes(self, which: Callable[[SessionRuntime], bool]) -> None:
        """Stop these sessions' cameras here without ending the sessions."""
        with self._lock:
            gone = [r for r in self._runtimes.values() if which(r)]
            for runtime in gone:
                del self._runtimes[runtime.id]
        for runtime in gone:
            log.info("session %s: no cameras of it run here now", runtime.id)
            runtime.stop()

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

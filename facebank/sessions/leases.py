"""This process as a camera runner among others on one database (PostgreSQL/MariaDB).

A heartbeat thread renews the runner's row and all its camera leases every `renew_s`; the
session manager asks `plan()` which cameras to take or give up (facebank.sessions.spread),
and stops everything when `valid()` turns false: a runner that could not renew for
`expiry_s - renew_s` stops its cameras before anyone else may take them (a fence kept by
the runner itself; a clock skew between machines eats into that margin).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from facebank.auth.clock import Clock
from facebank.sessions.spread import SpreadPlan, plan
from facebank.store.leases import LeaseRepository, RunnerIdentity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeasePolicy:
    renew_s: float
    expiry_s: float


def new_runner_identity() -> RunnerIdentity:
    host = socket.gethostname()[:60]
    pid = os.getpid()
    return RunnerIdentity(f"{host}:{pid}:{secrets.token_hex(4)}", host, pid)


class CameraLeases:
    def __init__(
        self,
        repo: LeaseRepository,
        policy: LeasePolicy,
        clock: Clock,
        identity: RunnerIdentity | None = None,
    ) -> None:
        self._repo = repo
        self._policy = policy
        self._clock = clock
        self.identity = identity or new_runner_identity()
        self._lock = threading.Lock()
        self._valid_until: datetime | None = None
        self._live = 1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def runner_id(self) -> str:
        return self.identity.runner_id

    def start(self) -> None:
        self.beat()  # the first plan already counts this runner
        self._thread = threading.Thread(target=self._beat_loop, name="session-leases",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop renewing and free this runner's cameras (call after they stopped)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self._repo.leave(self.runner_id)
        except Exception:
            log.exception("freeing the camera leases failed; they expire by themselves")

    def beat(self) -> bool:
        """Renew the heartbeat and every lease this runner holds; False when it failed."""
        started = self._clock()
        until = started + timedelta(seconds=self._policy.expiry_s)
        try:
            live = self._repo.heartbeat(self.identity, started, until)
        except Exception:
            log.exception("renewing the camera leases failed; will try again")
            return False
        with self._lock:
            # Counted from before the call: the database may have stored `until` a while ago.
            self._valid_until, self._live = until, live
        return True

    def _beat_loop(self) -> None:
        while not self._stop.wait(self._policy.renew_s):
            self.beat()

    def valid(self) -> bool:
        """Whether this runner may still read its cameras: its leases outlast the next
        renewal, with one renewal to spare."""
        with self._lock:
            until = self._valid_until
        margin = timedelta(seconds=self._policy.renew_s)
        return until is not None and self._clock() < until - margin

    def plan(self) -> SpreadPlan:
        with self._lock:
            live = self._live
        return plan(self.runner_id, live, self._repo.cameras(), self._clock())

    def claim(self, camera_ids: Collection[int]) -> set[int]:
        now = self._clock()
        return self._repo.claim(
            self.runner_id, camera_ids, now, now + timedelta(seconds=self._policy.expiry_s)
        )

    def release(self, camera_ids: Collection[int]) -> None:
        self._repo.release(self.runner_id, camera_ids)

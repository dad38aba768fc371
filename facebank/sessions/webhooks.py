"""Delivers stored events to webhooks: signed, retried with backoff and jitter, recorded.

Events are in the database before anything is sent, so delivery can always start over from
there (after a failure, a restart, or a replay). Worker threads claim due deliveries under a
lease, POST them, and record every attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from facebank import __version__
from facebank.sessions import signing
from facebank.sessions.observer import NoObserver, SessionObserver
from facebank.sessions.policy import WebhookPolicy
from facebank.store.sessions import AttemptResult, DeliveryJob, DeliveryRepository

log = logging.getLogger(__name__)

CLAIM_BATCH = 4
# Idle workers look at the table this often even without a wake-up: another process may
# have queued deliveries, and a database hiccup must not stall delivery for long.
IDLE_POLL_S = 2.0
USER_AGENT = f"facebank-webhooks/{__version__}"


@dataclass
class DeliveryCounters:
    """Cumulative, for metrics: attempts by outcome and final states reached."""

    attempts_ok: int = 0
    attempts_failed: int = 0
    delivered: int = 0
    given_up: int = 0


class _Waker:
    """Lets any thread wake every idle worker at once (a new event, a replay)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def wake(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout)
            return self._generation

    @property
    def generation(self) -> int:
        with self._cond:
            return self._generation


class WebhookDeliverer:
    def __init__(
        self,
        repo: DeliveryRepository,
        policy: WebhookPolicy,
        observer: SessionObserver | None = None,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self._policy = policy
        self._transport = transport
        self._observer = observer or NoObserver()
        self._now = now
        self._waker = _Waker()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.counters = DeliveryCounters()

    def start(self) -> None:
        for n in range(self._policy.workers):
            worker = threading.Thread(target=self._work, name=f"webhook-{n}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def wake(self) -> None:
        self._waker.wake()

    def close(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._waker.wake()
        for worker in self._workers:
            worker.join(timeout)

    def _work(self) -> None:
        with httpx.Client(
            timeout=self._policy.timeout_s,
            follow_redirects=False,  # a redirect is not a delivery; it would also drop the body
            transport=self._transport,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            while not self._stop.is_set():
                seen = self._waker.generation
                try:
                    jobs = self._repo.claim_due(self._now(), CLAIM_BATCH, self._policy.lease_s)
                except Exception:
                    log.exception("claiming webhook deliveries failed")
                    jobs = []
                for job in jobs:
                    if self._stop.is_set():
                        break  # the lease runs out and the delivery is sent after restart
                    self._deliver(client, job)
                if not jobs:
                    self._waker.wait(seen, self._idle_wait())

    def _idle_wait(self) -> float:
        try:
            due = self._repo.next_due_at()
        except Exception:
            return IDLE_POLL_S
        if due is None:
            return IDLE_POLL_S
        return min(IDLE_POLL_S, max(0.01, (due - self._now()).total_seconds()))

    def _deliver(self, client: httpx.Client, job: DeliveryJob) -> None:
        result = self.send(client, job)
        retry_at = None
        if not result.ok:
            delay = self._policy.backoff.delay(job.attempts + 1)
            retry_at = result.at + timedelta(seconds=delay)
        try:
            status = self._repo.record_attempt(job.delivery_id, result, retry_at)
        except Exception:  # the lease expires and the delivery is tried again
            log.exception("recording webhook attempt for %s failed", job.event_id)
            return
        self._count(result, status)
        self._observer.webhook_delivery(
            "delivered" if result.ok else "failed" if status == "failed" else "retrying"
        )
        if status == "failed":
            log.warning("webhook %s for %s: gave up (%s)", job.delivery_id, job.event_id,
                        result.error)

    def send(self, client: httpx.Client, job: DeliveryJob) -> AttemptResult:
        body = signing.body_bytes(job.payload)
        headers = {
            "Content-Type": "application/json",
            signing.SIGNATURE_HEADER: signing.sign(job.secret, body, int(time.time())),
            signing.EVENT_ID_HEADER: job.event_id,
            signing.EVENT_TYPE_HEADER: job.event_type,
            signing.DELIVERY_ID_HEADER: str(job.delivery_id),
            signing.ATTEMPT_HEADER: str(job.attempts + 1),
        }
        started = time.perf_counter()
        code: int | None = None
        error: str | None = None
        try:
            response = client.post(job.url, content=body, headers=headers)
            code = response.status_code
            if not 200 <= code < 300:
                error = f"HTTP {code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        elapsed_ms = (time.perf_counter() - started) * 1000
        return AttemptResult(self._now(), code, error, elapsed_ms)

    def _count(self, result: AttemptResult, status: str) -> None:
        with self._lock:
            c = self.counters
            if result.ok:
                c.attempts_ok += 1
                c.delivered += 1
            else:
                c.attempts_failed += 1
                c.given_up += status == "failed"

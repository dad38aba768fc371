"""Every HTTP request, recorded once by the RequestRecorder: into the Prometheus counter
and histogram that /metrics exports (the cumulative view), and into a bounded window of
recent requests from which /health/detailed reports per-route counts, error rates and
latency percentiles over the last minutes (which cumulative buckets cannot give)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

Sample = tuple[float, float, int]  # (monotonic time, seconds, status)
# Request latencies: from a cached health check (~1 ms) to a huge group photo (seconds).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class RouteStats:
    requests: int
    per_second: float
    client_errors: int  # 4xx
    server_errors: int  # 5xx
    error_rate: float  # 5xx share: the server's own failures
    p50_ms: float
    p95_ms: float
    p99_ms: float

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


class RequestWindow:
    """A bounded window of recent requests per "METHOD /route/template"."""

    def __init__(
        self,
        window_s: float = 300.0,
        max_per_route: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_s = window_s
        self._max = max_per_route
        self._clock = clock
        self._lock = threading.Lock()
        self._routes: dict[str, deque[Sample]] = {}

    def record(self, route: str, status: int, seconds: float) -> None:
        now = self._clock()
        with self._lock:
            samples = self._routes.get(route)
            if samples is None:
                samples = self._routes[route] = deque(maxlen=self._max)
            samples.append((now, seconds, status))
            self._trim(samples, now)

    def snapshot(self) -> dict[str, RouteStats]:
        now = self._clock()
        with self._lock:
            for samples in self._routes.values():
                self._trim(samples, now)
            copies = {route: list(s) for route, s in self._routes.items() if s}
        return {route: _summarise(s, self.window_s, now) for route, s in sorted(copies.items())}

    def _trim(self, samples: deque[Sample], now: float) -> None:
        horizon = now - self.window_s
        while samples and samples[0][0] < horizon:
            samples.popleft()


def _summarise(samples: list[Sample], window_s: float, now: float) -> RouteStats:
    latencies = np.array([s[1] for s in samples]) * 1000.0
    statuses = np.array([s[2] for s in samples])
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    # A young window (just started) would understate the rate if divided by window_s.
    span = min(window_s, max(now - samples[0][0], 1.0))
    server_errors = int((statuses >= 500).sum())
    return RouteStats(
        requests=len(samples),
        per_second=round(len(samples) / span, 3),
        client_errors=int(((statuses >= 400) & (statuses < 500)).sum()),
        server_errors=server_errors,
        error_rate=round(server_errors / len(samples), 4),
        p50_ms=round(float(p50), 2),
        p95_ms=round(float(p95), 2),
        p99_ms=round(float(p99), 2),
    )


class RequestRecorder:
    """The one place an HTTP request is recorded; /metrics and /health/detailed both read
    what it keeps."""

    def __init__(
        self,
        registry: CollectorRegistry,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.requests = Counter(
            "facebank_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "facebank_http_request_duration_seconds",
            "HTTP request latency by route template, method and status",
            ["route", "method", "status"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "facebank_http_requests_in_progress", "HTTP requests being served", registry=registry
        )
        self.window = RequestWindow(window_s, clock=clock)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(route, method, code).inc()
        self.duration.labels(route, method, code).observe(seconds)
        self.window.record(f"{method} {route}", status, seconds)

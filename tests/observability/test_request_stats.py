"""Per-route counts, error rates and percentiles over a sliding window, recorded once
with the Prometheus series."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from facebank.observability.request_stats import RequestRecorder, RequestWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_counts_errors_and_percentiles() -> None:
    clock = Clock()
    stats = RequestWindow(window_s=60, clock=clock)
    for ms in range(1, 101):  # 1..100 ms
        stats.record("POST /api/v1/recognize", 200, ms / 1000)
        clock.now += 0.1
    stats.record("POST /api/v1/recognize", 422, 0.002)
    stats.record("POST /api/v1/recognize", 500, 0.003)
    route = stats.snapshot()["POST /api/v1/recognize"]
    assert route.requests == 102
    assert (route.client_errors, route.server_errors) == (1, 1)
    assert route.error_rate == round(1 / 102, 4)  # only the server's own failures
    assert 49 <= route.p50_ms <= 52 and 94 <= route.p95_ms <= 96 and route.p99_ms <= 100
    assert 9 <= route.per_second <= 11  # 102 requests over ~10 s


def test_old_requests_leave_the_window() -> None:
    clock = Clock()
    stats = RequestWindow(window_s=60, clock=clock)
    stats.record("GET /health", 200, 0.001)
    clock.now += 30
    stats.record("GET /api/v1/people", 200, 0.01)
    clock.now += 45  # the /health sample is now 75 s old
    snapshot = stats.snapshot()
    assert "GET /health" not in snapshot
    assert snapshot["GET /api/v1/people"].requests == 1


def test_memory_is_bounded_per_route() -> None:
    stats = RequestWindow(window_s=60, max_per_route=10, clock=Clock())
    for _ in range(50):
        stats.record("GET /x", 200, 0.001)
    assert stats.snapshot()["GET /x"].requests == 10


def test_one_record_feeds_prometheus_and_the_window() -> None:
    registry = CollectorRegistry()
    recorder = RequestRecorder(registry, window_s=60, clock=Clock())
    recorder.observe("/api/v1/recognize", "POST", 200, 0.04)
    recorder.observe("/api/v1/recognize", "POST", 500, 0.01)
    labels = {"route": "/api/v1/recognize", "method": "POST", "status": "200"}
    assert registry.get_sample_value("facebank_http_requests_total", labels) == 1
    assert registry.get_sample_value("facebank_http_request_duration_seconds_sum", labels) == 0.04
    route = recorder.window.snapshot()["POST /api/v1/recognize"]
    assert (route.requests, route.server_errors) == (2, 1)

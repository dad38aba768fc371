"""Per-route counts, error rates and percentiles over a sliding window."""

from __future__ import annotations

from facebank.observability.request_stats import RequestStats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_counts_errors_and_percentiles() -> None:
    clock = Clock()
    stats = RequestStats(window_s=60, clock=clock)
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
    stats = RequestStats(window_s=60, clock=clock)
    stats.record("GET /health", 200, 0.001)
    clock.now += 30
    stats.record("GET /api/v1/people", 200, 0.01)
    clock.now += 45  # the /health sample is now 75 s old
    snapshot = stats.snapshot()
    assert "GET /health" not in snapshot
    assert snapshot["GET /api/v1/people"].requests == 1


def test_memory_is_bounded_per_route() -> None:
    stats = RequestStats(window_s=60, max_per_route=10, clock=Clock())
    for _ in range(50):
        stats.record("GET /x", 200, 0.001)
    assert stats.snapshot()["GET /x"].requests == 10

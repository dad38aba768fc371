"""Throughput and percentiles from timed samples: only what finished inside the window."""

from __future__ import annotations

from facebank.bench.stats import Sample, percentiles_ms, summarise


def test_only_the_measured_window_counts() -> None:
    samples = [
        (Sample(0.0, 0.5, "ok"), "recognize"),  # warm-up: excluded
        *((Sample(t, t + 0.1, "ok"), "recognize") for t in (1.0, 1.5, 2.0, 2.5)),
        (Sample(3.0, 3.2, "503"), "recognize"),
        (Sample(5.5, 6.5, "ok"), "recognize"),  # drained after the window: excluded
    ]
    result = summarise("recognize", 2, samples, (1.0, 5.0))
    assert result.requests == 4 and result.errors == {"503": 1}
    assert result.throughput_rps == 1.0  # 4 successes in 4 s
    assert result.p50_ms == 100.0 and result.by_kind == {"recognize": 4}


def test_percentiles() -> None:
    assert percentiles_ms([]) is None
    stats = percentiles_ms([i / 1000 for i in range(1, 101)])
    assert stats is not None
    p50, p95, p99, mean = stats
    assert 50 <= p50 <= 51 and 95 <= p95 <= 96 and 99 <= p99 <= 100 and mean == 50.5

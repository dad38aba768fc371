"""Turning timed samples into throughput and latency percentiles."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Sample:
    started: float
    finished: float
    outcome: str  # "ok", an HTTP status ("503"), or an exception name

    @property
    def seconds(self) -> float:
        return self.finished - self.started


@dataclass
class LevelResult:
    scenario: str
    concurrency: int
    duration_s: float
    requests: int  # successful (2xx) requests completed inside the window
    errors: dict[str, int]
    throughput_rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    by_kind: dict[str, int] = field(default_factory=dict)
    ceiling_fraction: float | None = None  # throughput / bare pipeline ceiling
    latency_vs_bare: float | None = None  # p50 / bare single-image p50

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def percentiles_ms(seconds: list[float]) -> tuple[float, float, float, float] | None:
    if not seconds:
        return None
    values = np.asarray(seconds) * 1000.0
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return (round(float(p50), 2), round(float(p95), 2), round(float(p99), 2),
            round(float(values.mean()), 2))  # fmt: skip


def summarise(
    scenario: str,
    concurrency: int,
    samples: list[tuple[Sample, str]],
    window: tuple[float, float],
) -> LevelResult:
    """Requests that finished inside `window` (warm-up and drain excluded)."""
    start, end = window
    inside = [(s, kind) for s, kind in samples if start <= s.finished <= end]
    ok = [s for s, _ in inside if s.outcome == "ok"]
    errors = Counter(s.outcome for s, _ in inside if s.outcome != "ok")
    kinds = Counter(kind for s, kind in inside if s.outcome == "ok")
    duration = end - start
    stats = percentiles_ms([s.seconds for s in ok])
    p50, p95, p99, mean = stats if stats else (None, None, None, None)
    return LevelResult(
        scenario=scenario,
        concurrency=concurrency,
        duration_s=round(duration, 2),
        requests=len(ok),
        errors=dict(errors),
        throughput_rps=round(len(ok) / duration, 2) if duration > 0 else 0.0,
        p50_ms=p50,
        p95_ms=p95,
        p99_ms=p99,
        mean_ms=mean,
        by_kind=dict(kinds),
    )

"""Gauges read from live objects at scrape time (index, database pool, executor, sessions),
so nothing has to remember to update them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from facebank.observability.sessions import SessionsSnapshot
from facebank.pipeline.executor import ExecutorStats

POOL_FIELDS = ("size", "checked_out", "checked_in", "overflow")


@dataclass(frozen=True)
class LiveState:
    """Readers of the container's live objects, each cheap (no database round trip)."""

    index_size: Callable[[], tuple[int, int]]  # (faces, people)
    index_kind: str
    pool: Callable[[], dict[str, Any]]  # facebank.store.db.pool_status
    executor: Callable[[], ExecutorStats]
    sessions: Callable[[], SessionsSnapshot]


class LiveStateCollector:
    def __init__(self, state: LiveState) -> None:
        self._state = state

    def collect(self) -> Iterable[Metric]:
        yield from self._index()
        yield from self._pool()
        yield from self._executor()
        yield from self._sessions()

    def _index(self) -> Iterable[Metric]:
        faces, people = self._state.index_size()
        size = GaugeMetricFamily(
            "facebank_index_faces", "Faces in the search index", labels=["index"]
        )
        size.add_metric([self._state.index_kind], faces)
        yield size
        yield GaugeMetricFamily(
            "facebank_index_people", "Distinct people in the search index", value=people
        )

    def _pool(self) -> Iterable[Metric]:
        status = self._state.pool()
        for name in POOL_FIELDS:
            if name in status:  # SQLite in memory has no pool sizes
                family = GaugeMetricFamily(
                    f"facebank_db_pool_{name}",
                    f"Database connection pool: {name.replace('_', ' ')}",
                    labels=["database"],
                )
                family.add_metric([str(status["kind"])], status[name])
                yield family

    def _executor(self) -> Iterable[Metric]:
        stats = self._state.executor()
        yield GaugeMetricFamily(
            "facebank_inference_in_flight",
            "Inference jobs running or waiting for a lane",
            value=stats.in_flight,
        )
        yield GaugeMetricFamily(
            "facebank_inference_waiting",
            "Inference jobs waiting for a free lane",
            value=stats.waiting,
        )
        jobs = CounterMetricFamily(
            "facebank_inference_jobs", "Inference jobs run, by lane", labels=["lane"]
        )
        busy = GaugeMetricFamily(
            "facebank_inference_lane_busy", "1 while the lane runs a job", labels=["lane"]
        )
        for lane, count in stats.jobs_by_lane.items():
            jobs.add_metric([lane], count)
            busy.add_metric([lane], 1 if lane in stats.busy_lanes else 0)
        yield jobs
        yield busy

    def _sessions(self) -> Iterable[Metric]:
        snapshot = self._state.sessions()
        yield GaugeMetricFamily(
            "facebank_sessions_active",
            "Live camera sessions running",
            value=snapshot.active_sessions,
        )
        yield GaugeMetricFamily(
            "facebank_cameras_active", "Cameras of running sessions", value=len(snapshot.cameras)
        )

"""Prometheus metrics of one service container, in its own CollectorRegistry."""

from __future__ import annotations

import contextlib

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.registry import Collector

from facebank import __version__
from facebank.observability.request_stats import RequestRecorder

# One stage of one image: sub-millisecond alignment up to decoding a 60 MP photo.
STAGE_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25,
    0.5, 1.0, 2.5,
)  # fmt: skip
FACE_BUCKETS = (0, 1, 2, 3, 5, 10, 20, 50, 100)
STAGES = ("decode", "detect", "align", "embed", "quality", "search")
WEBHOOK_OUTCOMES = ("delivered", "retrying", "failed")


class PipelineMetrics:
    """A StageObserver (facebank.pipeline.observer) that feeds Prometheus."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.stage_seconds = Histogram(
            "facebank_pipeline_stage_seconds",
            "Time of one pipeline stage for one image (search: one index query)",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=registry,
        )
        self.faces = Histogram(
            "facebank_faces_per_image",
            "Faces the detector found in one image",
            buckets=FACE_BUCKETS,
            registry=registry,
        )
        self._stages = {stage: self.stage_seconds.labels(stage) for stage in STAGES}

    def stage_done(self, stage: str, seconds: float) -> None:
        child = self._stages.get(stage) or self.stage_seconds.labels(stage)
        child.observe(seconds)

    def faces_found(self, count: int) -> None:
        self.faces.observe(count)


class SessionMetrics:
    """The calls the live-session workers (facebank.sessions) make; zero until they do."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["session", "camera"]
        self.fps = Gauge(
            "facebank_camera_fps", "Frames per second processed", labels, registry=registry
        )
        self.frames = Counter(
            "facebank_camera_frames", "Frames processed", labels, registry=registry
        )
        self.dropped = Counter(
            "facebank_camera_frames_dropped",
            "Frames dropped because the camera's queue was full",
            labels,
            registry=registry,
        )
        self.webhooks = Counter(
            "facebank_webhook_deliveries",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=registry,
        )
        for outcome in WEBHOOK_OUTCOMES:
            self.webhooks.labels(outcome)  # so every outcome is exported from the start

    def frame_processed(self, session: str, camera: str) -> None:
        self.frames.labels(session, camera).inc()

    def frames_dropped(self, session: str, camera: str, count: int = 1) -> None:
        self.dropped.labels(session, camera).inc(count)

    def set_fps(self, session: str, camera: str, fps: float) -> None:
        self.fps.labels(session, camera).set(fps)
        # Touch the counters too: a camera that never dropped a frame still exports 0, so
        # dashboards and alerts see the series from the camera's first report.
        self.frames.labels(session, camera)
        self.dropped.labels(session, camera)

    def camera_stopped(self, session: str, camera: str) -> None:
        """Forget a camera's series so ended sessions do not linger in every scrape."""
        for metric in (self.fps, self.frames, self.dropped):
            with contextlib.suppress(KeyError):  # never seen, or already removed
                metric.remove(session, camera)

    def webhook_delivery(self, outcome: str) -> None:
        """outcome: "delivered", "retrying" (failed, will retry) or "failed" (gave up)."""
        self.webhooks.labels(outcome).inc()


class Metrics:
    """Every metric of one service container. Collectors that read live state (index,
    database pool, executor, sessions) are added with `watch`."""

    def __init__(
        self, registry: CollectorRegistry | None = None, stats_window_s: float = 300.0
    ) -> None:
        self.registry = registry or CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.http = RequestRecorder(self.registry, stats_window_s)
        self.pipeline = PipelineMetrics(self.registry)
        self.sessions = SessionMetrics(self.registry)
        self.build_info = Gauge(
            "facebank_build_info",
            "Always 1; labels say what is running",
            ["version", "model_id"],
            registry=self.registry,
        )

    def describe_build(self, model_id: str) -> None:
        self.build_info.labels(__version__, model_id).set(1)

    def watch(self, collector: Collector) -> None:
        self.registry.register(collector)

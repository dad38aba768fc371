"""Several sets of ONNX Runtime sessions over one model pack, chosen per thread.

A lane is one FacePipeline with its own detector and embedder sessions. The factory builds
one "wide" lane whose sessions split each image over several cores (lowest latency for a
request that is alone) and several "narrow" single-thread lanes (highest throughput when
many requests are in flight: no thread hand-offs inside ONNX Runtime, no oversubscription).
The InferenceExecutor binds each of its threads to one lane; other threads (CLI tools,
synchronous routes) use the first lane.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage, Detection, Face


@dataclass(frozen=True)
class Lane:
    name: str  # "wide" or "narrow-<n>"
    threads: int  # ONNX Runtime intra-op threads of its sessions
    pipeline: FacePipeline

    @property
    def wide(self) -> bool:
        return self.name == "wide"


class LanedPipeline(FacePipeline):
    """A FacePipeline whose model calls run on the lane bound to the calling thread."""

    def __init__(self, lanes: Sequence[Lane]) -> None:
        if not lanes:
            raise ValueError("a LanedPipeline needs at least one lane")
        first = lanes[0].pipeline
        super().__init__(
            first.detector,
            first.embedder,
            first.limits,
            det_size=first.det_size,
            det_threshold=first.det_threshold,
            model_id=first.model_id,
            observers=first.observers,
        )
        self.lanes: tuple[Lane, ...] = tuple(lanes)
        self._local = threading.local()

    @classmethod
    def of(cls, pipeline: FacePipeline) -> LanedPipeline:
        """`pipeline` itself when laned, else a one-lane wrapper around it."""
        if isinstance(pipeline, LanedPipeline):
            return pipeline
        threads = pipeline.detector.factory.intra_op_threads
        return cls([Lane("narrow-0", threads, pipeline)])

    def bind(self, lane: Lane) -> None:
        """Run this thread's model calls on `lane` from now on."""
        self._local.pipeline = lane.pipeline

    def _current(self) -> FacePipeline:
        bound: FacePipeline | None = getattr(self._local, "pipeline", None)
        return bound or self.lanes[0].pipeline

    def detect(self, image: DecodedImage, max_faces: int | None = None) -> list[Detection]:
        return self._current().detect(image, max_faces)

    def embed(self, image: DecodedImage, detections: list[Detection]) -> list[Face]:
        return self._current().embed(image, detections)

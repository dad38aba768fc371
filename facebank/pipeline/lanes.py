"""Several sets of ONNX Runtime sessions over one model pack, and which set a thread uses.

A lane is one detector and one embedder with their own sessions. The factory builds one
"wide" lane whose sessions split each image over several cores (lowest latency for a
request that is alone) and several "narrow" single-thread lanes (highest throughput when
many requests are in flight: no thread hand-offs inside ONNX Runtime, no oversubscription).
The FacePipeline asks its Lanes for the models of the calling thread's lane: the
InferenceExecutor binds each of its threads to one lane; other threads (CLI tools,
synchronous routes) get the first lane.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from facebank.models.detector import ScrfdDetector
from facebank.models.embedder import ArcFaceEmbedder


@dataclass(frozen=True)
class LaneModels:
    detector: ScrfdDetector
    embedder: ArcFaceEmbedder


@dataclass(frozen=True)
class Lane:
    name: str  # "wide" or "narrow-<n>"
    threads: int  # ONNX Runtime intra-op threads of its sessions
    models: LaneModels

    @property
    def wide(self) -> bool:
        return self.name == "wide"


class Lanes:
    """The lanes of one pipeline and the lane each thread is bound to."""

    def __init__(self, lanes: Sequence[Lane]) -> None:
        if not lanes:
            raise ValueError("a pipeline needs at least one lane")
        self._lanes = tuple(lanes)
        self._first = self._lanes[0].models
        # One attribute per thread, set once by bind(): reading it is the only cost a
        # model call pays for lanes (no lock).
        self._bound = threading.local()

    @classmethod
    def single(cls, detector: ScrfdDetector, embedder: ArcFaceEmbedder) -> Lanes:
        """One lane over these models (tests and tools that build their own models)."""
        threads = detector.factory.intra_op_threads
        return cls([Lane("narrow-0", threads, LaneModels(detector, embedder))])

    @property
    def first(self) -> LaneModels:
        return self._first

    def __iter__(self) -> Iterator[Lane]:
        return iter(self._lanes)

    def bind(self, lane: Lane) -> None:
        """Run the calling thread's model calls on `lane` from now on."""
        self._bound.models = lane.models

    def current(self) -> LaneModels:
        """The models of the calling thread's lane (the first lane when unbound)."""
        models: LaneModels = getattr(self._bound, "models", self._first)
        return models

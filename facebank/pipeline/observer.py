"""How the pipeline reports what it did without knowing who listens.

The pipeline stays free of any metrics library: it calls these hooks, and whoever wants
numbers (Prometheus in facebank.observability) attaches an observer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class StageObserver(Protocol):
    def stage_done(self, stage: str, seconds: float) -> None:
        """One stage (decode, detect, align, embed, quality, search) of one image finished."""

    def faces_found(self, count: int) -> None:
        """The detector found `count` faces in one image."""


class ObserverHub:
    """Fans pipeline events out to the attached observers.

    A pipeline may outlive or be shared by several service containers (tests share one
    loaded pipeline), so observers attach and detach instead of being fixed at build time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Replaced, never mutated, so readers iterate without taking the lock.
        self._observers: tuple[StageObserver, ...] = ()

    def attach(self, observer: StageObserver) -> None:
        with self._lock:
            self._observers = (*self._observers, observer)

    def detach(self, observer: StageObserver) -> None:
        with self._lock:
            self._observers = tuple(o for o in self._observers if o is not observer)

    def stage_done(self, stage: str, seconds: float) -> None:
        for observer in self._observers:
            observer.stage_done(stage, seconds)

    def faces_found(self, count: int) -> None:
        for observer in self._observers:
            observer.faces_found(count)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_done(stage, time.perf_counter() - started)

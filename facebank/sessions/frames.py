"""A camera frame, and the one-frame slot between a camera reader and the scheduler."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Frame:
    pixels: NDArray[np.uint8]  # BGR
    index: int  # per camera, counts published frames
    captured_at: datetime  # wall clock (UTC), reported in events
    monotonic: float  # for tracking and rates


class FrameSlot:
    """Holds only the newest frame. A reader never waits for inference: when a new frame
    arrives before the last was taken, the old one is dropped and counted, so memory stays
    bounded and inference always sees the present."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: Frame | None = None
        self.published = 0
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._lock:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.published += 1

    def take(self) -> Frame | None:
        with self._lock:
            frame, self._frame = self._frame, None
            return frame

    def has_frame(self) -> bool:
        with self._lock:
            return self._frame is not None

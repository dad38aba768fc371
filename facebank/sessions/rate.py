"""Events per second over a sliding window (camera fps as measured, not as configured)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RateMeter:
    def __init__(self, window_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window_s
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()
        self.total = 0

    def tick(self) -> None:
        now = self._clock()
        with self._lock:
            self._times.append(now)
            self.total += 1
            self._expire(now)

    def rate(self) -> float:
        now = self._clock()
        with self._lock:
            self._expire(now)
            if len(self._times) < 2:
                return 0.0
            # Over the span actually covered (up to now), so a young meter is not
            # under-reported and a stalled source decays towards zero.
            return (len(self._times) - 1) / max(now - self._times[0], 1e-9)

    def _expire(self, now: float) -> None:
        while self._times and now - self._times[0] > self._window:
            self._times.popleft()

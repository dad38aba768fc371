"""Events per second over a sliding window (camera fps as measured, not as configured)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# A meter younger than this divides by it: the first frames of a stream often arrive in a
# burst (3 frames in 0.2 s from a 5 fps camera read as 9.5 fps), which must not show as the
# camera's rate.
MIN_SPAN_S = 1.0


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
            # Over the span covered (up to now, so a stalled source decays towards zero),
            # but at least MIN_SPAN_S, so a start-up burst does not read as a high rate.
            return (len(self._times) - 1) / max(now - self._times[0], MIN_SPAN_S)

    def _expire(self, now: float) -> None:
        while self._times and now - self._times[0] > self._window:
            self._times.popleft()

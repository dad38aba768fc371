"""Exponential backoff with jitter, shared by camera reopening and webhook retries."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

# 2**60 seconds is far past any cap; bounding the exponent keeps the arithmetic finite.
_MAX_EXPONENT = 60


@dataclass(frozen=True)
class Backoff:
    initial_s: float
    max_s: float

    def ceiling(self, attempt: int) -> float:
        """The un-jittered delay before retry number `attempt` (1 = first retry)."""
        exponent = min(max(attempt, 1) - 1, _MAX_EXPONENT)
        return float(min(self.max_s, self.initial_s * 2**exponent))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Half the ceiling fixed, half random ("equal jitter"): retries of many cameras or
        deliveries that failed together spread out, yet never come back immediately."""
        ceiling = self.ceiling(attempt)
        return ceiling / 2 + ceiling / 2 * rand()

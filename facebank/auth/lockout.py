"""Login lockout with exponential backoff: a pure policy over failure counts and times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    """After `threshold` consecutive failures the key is locked for `base`, doubling with
    each further failure up to `ceiling`. A key that stays quiet for `forget_after` after its
    last failure (or the end of its lock) starts from zero again."""

    threshold: int
    base: timedelta
    ceiling: timedelta
    forget_after: timedelta

    def lock_after(self, failures: int) -> timedelta | None:
        if failures < self.threshold:
            return None
        doublings = min(failures - self.threshold, 32)  # bounded: 2**32 * base is past any cap
        return min(self.base * (1 << doublings), self.ceiling)

    def is_forgotten(
        self, last_failure: datetime, locked_until: datetime | None, now: datetime
    ) -> bool:
        quiet_since = max(last_failure, locked_until) if locked_until else last_failure
        return now - quiet_since >= self.forget_after


@dataclass(frozen=True)
class ThrottleState:
    failures: int
    last_failure_at: datetime
    locked_until: datetime | None


def after_failure(
    policy: LockoutPolicy, state: ThrottleState | None, now: datetime
) -> ThrottleState:
    """The state once one more failure at `now` is counted."""
    failures = 1
    if state is not None and not policy.is_forgotten(
        state.last_failure_at, state.locked_until, now
    ):
        failures = state.failures + 1
    lock = policy.lock_after(failures)
    return ThrottleState(failures, now, now + lock if lock else None)

"""The lockout policy: threshold, doubling backoff, ceiling, forgetting."""

from __future__ import annotations

from datetime import timedelta

from facebank.auth.lockout import LockoutPolicy, after_failure
from tests.auth.fakes import FakeClock

POLICY = LockoutPolicy(
    threshold=3,
    base=timedelta(seconds=30),
    ceiling=timedelta(seconds=200),
    forget_after=timedelta(seconds=900),
)


def test_backoff_doubles_up_to_the_ceiling() -> None:
    assert [POLICY.lock_after(n) for n in (1, 2)] == [None, None]
    locks = [POLICY.lock_after(n) for n in (3, 4, 5, 6, 10_000)]
    assert [lock.total_seconds() if lock else None for lock in locks] == [30, 60, 120, 200, 200]


def test_failures_accumulate_then_are_forgotten_after_a_quiet_period() -> None:
    clock = FakeClock()
    state = None
    for _ in range(3):
        state = after_failure(POLICY, state, clock())
    assert state is not None and state.failures == 3
    assert state.locked_until == clock() + timedelta(seconds=30)
    clock.advance(31)
    state = after_failure(POLICY, state, clock())
    assert state.failures == 4 and state.locked_until == clock() + timedelta(seconds=60)
    clock.advance(60 + 900)  # quiet for forget_after once the lock ended
    state = after_failure(POLICY, state, clock())
    assert state.failures == 1 and state.locked_until is None

"""The spreading rule on its own: shares of ceil(cameras / runners), extras given up from
the top, free and expired cameras taken from the bottom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facebank.sessions.spread import fair_share, plan
from facebank.store.leases import CameraLease

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
LATER, EARLIER = NOW + timedelta(seconds=5), NOW - timedelta(seconds=1)


def _lease(camera_id: int, owner: str | None, until: datetime | None) -> CameraLease:
    return CameraLease(camera_id, 1, owner, until)


def test_fair_share_rounds_up_and_counts_at_least_one_runner() -> None:
    assert [fair_share(6, n) for n in (0, 1, 2, 3, 4, 7)] == [6, 6, 3, 2, 2, 1]
    assert fair_share(0, 2) == 0


def test_a_lone_runner_takes_every_free_camera() -> None:
    leases = [_lease(i, None, None) for i in range(1, 7)]
    assert plan("a", 1, leases, NOW).claim == (1, 2, 3, 4, 5, 6)


def test_a_runner_over_its_share_gives_up_its_highest_cameras() -> None:
    leases = [_lease(i, "a", LATER) for i in range(1, 7)]
    spread = plan("a", 2, leases, NOW)
    assert (spread.held, spread.claim, spread.release) == (frozenset(range(1, 7)), (), (4, 5, 6))


def test_a_new_runner_takes_only_free_or_expired_cameras_up_to_its_share() -> None:
    leases = [
        _lease(1, "a", LATER), _lease(2, "a", LATER), _lease(3, "gone", EARLIER),
        _lease(4, None, None), _lease(5, "a", LATER), _lease(6, None, None),
        _lease(7, None, None),
    ]
    spread = plan("b", 2, leases, NOW)
    assert spread.claim == (3, 4, 6, 7)  # share ceil(7/2) = 4
    assert plan("b", 3, leases, NOW).claim == (3, 4, 6)  # share 3


def test_an_expired_lease_of_my_own_is_not_held_but_can_be_taken_back() -> None:
    leases = [_lease(1, "a", EARLIER), _lease(2, "a", LATER)]
    spread = plan("a", 1, leases, NOW)
    assert (spread.held, spread.claim) == (frozenset({2}), (1,))

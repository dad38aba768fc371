"""The spreading rule: how many cameras this runner should hold, and which to take or give up.

Each runner holds at most ceil(cameras / live runners). One over: it gives up its
highest-numbered extras, so a runner that just joined finds them free on its next turn.
Under: it takes the lowest-numbered free ones (cameras of one session have neighbouring ids,
so a session tends to stay on one runner). Every runner applies the same rule to the same
rows; the conditional claims settle any race, and the counts converge within two turns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from facebank.store.leases import CameraLease


@dataclass(frozen=True)
class SpreadPlan:
    held: frozenset[int]  # cameras this runner holds now, by the rows read
    claim: tuple[int, ...]
    release: tuple[int, ...]


def fair_share(cameras: int, live_runners: int) -> int:
    return math.ceil(cameras / max(1, live_runners))


def plan(me: str, live_runners: int, leases: Sequence[CameraLease], now: datetime) -> SpreadPlan:
    share = fair_share(len(leases), live_runners)
    mine = sorted(lease.camera_id for lease in leases if lease.held_by(me, now))
    if len(mine) > share:
        return SpreadPlan(frozenset(mine), (), tuple(mine[share:]))
    free = sorted(lease.camera_id for lease in leases if lease.free(now))
    return SpreadPlan(frozenset(mine), tuple(free[: share - len(mine)]), ())

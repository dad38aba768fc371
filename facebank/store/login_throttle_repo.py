"""Failed-login counters per user name and per client address, shared by all workers.

Kept in the database rather than in memory so a lockout holds across worker processes and
restarts; login already costs an Argon2 hash, so these small writes do not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.auth.lockout import ThrottleState
from facebank.store.tables import LoginThrottle
from facebank.store.tx import SessionFactory, run_read, run_write

KEY_MAX = 128
# Two racing first failures both insert; the loser simply counts again on top.
INSERT_ATTEMPTS = 3

# (key, current state or None) -> the state to store
NextState = Callable[[str, ThrottleState | None], ThrottleState]


class LoginThrottleRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def states(self, keys: Sequence[str]) -> dict[str, ThrottleState]:
        wanted = [k[:KEY_MAX] for k in keys]

        def work(session: Session) -> dict[str, ThrottleState]:
            rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(wanted)))
            return {row.key: _state(row) for row in rows}

        return run_read(self._sessions, work)

    def update(self, keys: Sequence[str], next_state: NextState) -> dict[str, ThrottleState]:
        """Replace each key's state by `next_state(key, current)` in one transaction."""
        wanted = sorted({k[:KEY_MAX] for k in keys})  # one lock order: no deadlocks

        def work(session: Session) -> dict[str, ThrottleState]:
            result = {}
            for key in wanted:
                row = session.get(LoginThrottle, key, with_for_update=True)
                new = next_state(key, None if row is None else _state(row))
                if row is None:
                    row = LoginThrottle(key=key)
                    session.add(row)
                row.failures = new.failures
                row.last_failure_at = new.last_failure_at
                row.locked_until = new.locked_until
                session.flush()
                result[key] = new
            return result

        for attempt in range(INSERT_ATTEMPTS):
            try:
                return run_write(self._sessions, work)
            except IntegrityError:
                if attempt == INSERT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def clear(self, key: str) -> None:
        run_write(
            self._sessions,
            lambda session: session.execute(
                delete(LoginThrottle).where(LoginThrottle.key == key[:KEY_MAX])
            ),
        )

    def purge_before(self, cutoff: datetime) -> int:
        """Drop rows idle since `cutoff` (keeps the table from growing with old addresses)."""

        def work(session: Session) -> int:
            result = session.execute(
                delete(LoginThrottle).where(
                    LoginThrottle.last_failure_at < cutoff,
                    (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < cutoff),
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

        return run_write(self._sessions, work)


def _state(row: LoginThrottle) -> ThrottleState:
    return ThrottleState(row.failures, row.last_failure_at, row.locked_until)

"""Runner heartbeats and camera leases in the database (PostgreSQL/MariaDB; issue 13).

Every write is one conditional UPDATE (or an upsert of the runner's own row), so two runners
racing for a camera cannot both win: the database re-checks the WHERE clause against the
row the other committed. Times come from the caller's clock (a true boundary in tests);
machines sharing a database must keep their clocks in step (NTP), well within the lease.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from facebank.store.tables import LiveSession, SessionCamera, SessionRunner
from facebank.store.tx import SessionFactory, run_read, run_write

FORGET_DEAD_AFTER_S = 3600.0


@dataclass(frozen=True)
class RunnerIdentity:
    runner_id: str
    host: str
    pid: int


@dataclass(frozen=True)
class CameraLease:
    """A camera that needs a runner (active session, not played out) and who holds it."""

    camera_id: int
    session_id: int
    owner: str | None
    until: datetime | None

    def held_by(self, runner_id: str, now: datetime) -> bool:
        return self.owner == runner_id and self.until is not None and self.until > now

    def free(self, now: datetime) -> bool:
        return self.owner is None or self.until is None or self.until <= now


class LeaseRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    # ---- runners ---------------------------------------------------------------------------

    def heartbeat(self, me: RunnerIdentity, now: datetime, until: datetime) -> int:
        """Mark this runner alive until `until` and renew its camera leases to the same time;
        returns how many runners are alive now (this one included)."""

        def work(session: Session) -> int:
            row = session.get(SessionRunner, me.runner_id, with_for_update=True)
            if row is None:
                session.add(
                    SessionRunner(
                        runner_id=me.runner_id,
                        host=me.host,
                        pid=me.pid,
                        started_at=now,
                        heartbeat_at=now,
                        expires_at=until,
                    )
                )
            else:
                row.heartbeat_at, row.expires_at = now, until
            session.execute(
                update(SessionCamera)
                .where(SessionCamera.lease_owner == me.runner_id)
                .values(lease_until=until)
            )
            # Runners that died long ago: their row only tells history nobody reads.
            session.execute(
                delete(SessionRunner).where(
                    SessionRunner.expires_at < now - timedelta(seconds=FORGET_DEAD_AFTER_S)
                )
            )
            session.flush()
            return len(
                session.scalars(
                    select(SessionRunner.runner_id).where(SessionRunner.expires_at > now)
                ).all()
            )

        return run_write(self._sessions, work)

    def leave(self, runner_id: str) -> None:
        """A clean shutdown: drop the runner and free its cameras at once."""

        def work(session: Session) -> None:
            session.execute(
                update(SessionCamera)
                .where(SessionCamera.lease_owner == runner_id)
                .values(lease_owner=None, lease_until=None)
            )
            session.execute(delete(SessionRunner).where(SessionRunner.runner_id == runner_id))

        run_write(self._sessions, work)

    # ---- cameras ---------------------------------------------------------------------------

    def cameras(self) -> list[CameraLease]:
        """Every camera that needs a runner, with its lease, by id."""

        def work(session: Session) -> list[CameraLease]:
            rows = session.execute(
                select(
                    SessionCamera.id,
                    SessionCamera.session_id,
                    SessionCamera.lease_owner,
                    SessionCamera.lease_until,
                )
                .join(LiveSession, LiveSession.id == SessionCamera.session_id)
                .where(LiveSession.status == "active", SessionCamera.status != "finished")
                .order_by(SessionCamera.id)
            ).all()
            return [CameraLease(int(i), int(s), o, u) for i, s, o, u in rows]

        return run_read(self._sessions, work)

    def claim(
        self, runner_id: str, camera_ids: Collection[int], now: datetime, until: datetime
    ) -> set[int]:
        """Take each camera that is free (no owner, or its lease ran out); returns the ones
        won. One conditional UPDATE per camera: a lost race just changes no row."""

        def work(session: Session) -> set[int]:
            won: set[int] = set()
            for camera_id in sorted(camera_ids):
                result = session.execute(
                    update(SessionCamera)
                    .where(
                        SessionCamera.id == camera_id,
                        or_(
                            SessionCamera.lease_owner.is_(None),
                            SessionCamera.lease_until.is_(None),
                            SessionCamera.lease_until <= now,
                            SessionCamera.lease_owner == runner_id,
                        ),
                    )
                    .values(lease_owner=runner_id, lease_until=until)
                )
                if result.rowcount:  # type: ignore[attr-defined]
                    won.add(camera_id)
            return won

        return run_write(self._sessions, work) if camera_ids else set()

    def release(self, runner_id: str, camera_ids: Collection[int]) -> None:
        """Give cameras up (after this runner stopped reading them)."""
        if not camera_ids:
            return

        def work(session: Session) -> None:
            session.execute(
                update(SessionCamera)
                .where(
                    and_(
                        SessionCamera.id.in_(sorted(camera_ids)),
                        SessionCamera.lease_owner == runner_id,
                    )
                )
                .values(lease_owner=None, lease_until=None)
            )

        run_write(self._sessions, work)

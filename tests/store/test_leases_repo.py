"""Camera leases and webhook claims between two runners on one server database: cameras
split by the spreading rule, a silent runner's cameras taken once its leases expire (the
clock is injected, so expiry needs no waiting), and a webhook delivery claimed by one runner
is invisible to the other until its lease runs out."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from facebank.sessions import events
from facebank.sessions.leases import CameraLeases, LeasePolicy
from facebank.store.audit import NewAuditEntry
from facebank.store.db import make_session_factory
from facebank.store.leases import LeaseRepository, RunnerIdentity
from facebank.store.sessions import (
    DeliveryRepository,
    EventRepository,
    NewCamera,
    NewSession,
    SessionRecord,
    SessionRepository,
)

pytestmark = pytest.mark.parametrize(
    "migrated_engine",
    [
        pytest.param("mysql", marks=pytest.mark.mysql),
        pytest.param("postgresql", marks=pytest.mark.postgres),
    ],
    indirect=True,
)
POLICY = LeasePolicy(renew_s=2.0, expiry_s=6.0)
RETRY_FOR_S = 3600.0
T0 = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def factory(migrated_engine: Engine) -> sessionmaker[Session]:
    with migrated_engine.begin() as conn:
        conn.execute(text("DELETE FROM live_sessions"))
        conn.execute(text("DELETE FROM session_runners"))
    return make_session_factory(migrated_engine)


def _audit(record: SessionRecord) -> NewAuditEntry:
    return NewAuditEntry(actor_kind="system", actor_id=None, actor_name="tests",
                         action="session.start", target_kind="session",
                         target_id=str(record.id), details={})


def _session(factory: sessionmaker[Session], cameras: int, webhook: bool = False) -> SessionRecord:
    new = NewSession(
        key=f"slot-{cameras}-{webhook}", mode="once", threshold=0.5, cooldown_s=0,
        cameras=tuple(NewCamera(url=f"rtsp://cam{i}.invalid/", name=f"cam{i}", target_fps=1)
                      for i in range(cameras)),
        webhook_url="http://127.0.0.1:9/hook" if webhook else None,
        webhook_secret="s" * 16 if webhook else None,
    )
    repo = SessionRepository(factory, RETRY_FOR_S)
    record, _ = repo.create(new, lambda r: events.started(r, T0), _audit)
    return record


def _runner(factory: sessionmaker[Session], clock: Clock, name: str) -> CameraLeases:
    return CameraLeases(LeaseRepository(factory), POLICY, clock, RunnerIdentity(name, "h", 1))


def _turn(runner: CameraLeases) -> set[int]:
    """One sync of the session manager, as far as leases go: beat, give up, take."""
    runner.beat()
    spread = runner.plan()
    runner.release(spread.release)
    return (set(spread.held) - set(spread.release)) | runner.claim(spread.claim)


def test_two_runners_split_six_cameras_and_a_silent_one_loses_them(
    factory: sessionmaker[Session],
) -> None:
    cameras = {c.id for c in _session(factory, 6).cameras}
    clock = Clock()
    a, b = _runner(factory, clock, "runner-a"), _runner(factory, clock, "runner-b")

    assert _turn(a) == cameras  # alone: all six
    assert _turn(b) == set()  # joins: nothing free yet
    held_a = _turn(a)  # sees two runners: keeps three, frees three
    held_b = _turn(b)
    assert (len(held_a), len(held_b)) == (3, 3)
    assert held_a | held_b == cameras

    # Renewals keep the split stable.
    clock.now += timedelta(seconds=2)
    assert (_turn(a), _turn(b)) == (held_a, held_b)

    # a stops heartbeating: within the lease its cameras stay its own...
    clock.now += timedelta(seconds=POLICY.expiry_s - 1)
    assert _turn(b) == held_b
    # ...its own fence stops them before the lease runs out...
    assert not a.valid()
    # ...and once it ran out b takes every camera.
    clock.now += timedelta(seconds=1)
    assert _turn(b) == cameras


def test_racing_claims_never_give_one_camera_to_two_runners(
    factory: sessionmaker[Session],
) -> None:
    cameras = {c.id for c in _session(factory, 6).cameras}
    repo = LeaseRepository(factory)
    until = T0 + timedelta(seconds=POLICY.expiry_s)
    won: dict[str, set[int]] = {}
    start = threading.Barrier(2)

    def claim(name: str) -> None:
        start.wait()
        won[name] = repo.claim(name, cameras, T0, until)

    threads = [threading.Thread(target=claim, args=(n,)) for n in ("runner-a", "runner-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert won["runner-a"].isdisjoint(won["runner-b"])
    assert won["runner-a"] | won["runner-b"] == cameras
    # Held: nobody else gets them until the lease has run out.
    assert repo.claim("runner-c", cameras, T0 + timedelta(seconds=1), until) == set()
    assert repo.claim("runner-c", cameras, until, until + timedelta(seconds=6)) == cameras


def test_a_claimed_delivery_is_not_claimed_by_the_other_runner(
    factory: sessionmaker[Session],
) -> None:
    record = _session(factory, 1, webhook=True)
    EventRepository(factory, RETRY_FOR_S).append(record.id, events.started(record, T0))
    a, b = DeliveryRepository(factory, RETRY_FOR_S), DeliveryRepository(factory, RETRY_FOR_S)
    now, lease_s = datetime.now(UTC) + timedelta(seconds=1), 20.0

    first = a.claim_due(now, 10, lease_s)
    assert len(first) == 2  # "started" from create, and the one appended
    assert b.claim_due(now, 10, lease_s) == []
    # a died before recording: after its lease the attempt is b's (the at-least-once window).
    later = b.claim_due(now + timedelta(seconds=lease_s + 1), 10, lease_s)
    assert sorted(j.delivery_id for j in later) == sorted(j.delivery_id for j in first)

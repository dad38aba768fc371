"""Two runners on one server database (issue 13): six cameras of a session split 3/3; one
runner loses the database (a TCP proxy cut, as a dead or partitioned machine looks to the
others), stops its own cameras, and the other takes all six. Every event is delivered,
and in "once" mode nobody is reported twice although the cameras ran on two runners."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.store.db import make_session_factory
from facebank.store.leases import LeaseRepository
from tests.api.conftest import app_client, make_settings
from tests.dbservers import fresh_database
from tests.observability.tcp_proxy import TcpProxy
from tests.sessions.conftest import FAST, HANG_S, all_events, enroll, start
from tests.sessions.scene import Scene
from tests.waiting import wait_until

CAMERAS = 6
# Short leases so the take-over happens within a few seconds of the cut.
LEASES = {"session_lease_renew_s": 0.5, "session_lease_expiry_s": 2.0}


@contextmanager
def runner(data_dir: Path, url: str, pipeline: FacePipeline) -> Iterator[Services]:
    services = build_services(make_settings(data_dir, url, **FAST, **LEASES), pipeline=pipeline)
    try:
        services.start()
        yield services
    finally:
        services.close()


def owners(services: Services, sid: int) -> Counter[str | None]:
    leases = LeaseRepository(make_session_factory(services.engine)).cameras()
    return Counter(lease.owner for lease in leases if lease.session_id == sid)


def running_here(services: Services, sid: int) -> int:
    cameras = services.sessions.manager.cameras(sid) or []
    return sum(c.status == "running" for c in cameras)


def least_read(services: Services, sid: int) -> int:
    """Frames read by the camera of this runner that read the fewest."""
    cameras = services.sessions.manager.cameras(sid) or []
    return min((c.frames_read for c in cameras), default=0)


@pytest.mark.parametrize(
    "kind",
    [pytest.param("mysql", marks=pytest.mark.mysql),
     pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def test_two_runners_share_six_cameras_and_one_takes_over_when_the_other_is_cut_off(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline, scene: Scene,
    scene_jpegs: list[bytes], receiver: WebhookReceiver,
) -> None:
    with ExitStack() as stack:
        cams = [MjpegCamera(scene_jpegs, scene.fps).start() for _ in range(CAMERAS)]
        for cam in cams:
            stack.callback(cam.close)
        url = stack.enter_context(fresh_database(kind))
        real = make_url(url)
        proxy = TcpProxy(real.host or "127.0.0.1", real.port or 0)
        stack.callback(proxy.close)
        survivor = stack.enter_context(runner(tmp_path / "b", url, face_pipeline))
        client = stack.enter_context(app_client(survivor))
        enroll(client, scene)
        proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        doomed = stack.enter_context(runner(tmp_path / "a", proxied, face_pipeline))
        stack.callback(proxy.restore)  # runs before the doomed runner closes

        sid = start(
            client,
            [{"url": c.url, "name": f"cam{i}", "fps": scene.fps} for i, c in enumerate(cams)],
            receiver.url, mode="once",
        )["id"]
        wait_until(lambda: sorted(owners(survivor, sid).values()) == [3, 3], HANG_S,
                   "the six cameras split 3/3 over the two runners")
        wait_until(lambda: (running_here(doomed, sid), running_here(survivor, sid)) == (3, 3),
                   HANG_S, "each runner reading its three cameras")

        # A loop of footage on every camera: everybody walks by on both runners' cameras,
        # so without the cross-runner check each runner would report them.
        loop = scene.frame_count
        wait_until(lambda: least_read(doomed, sid) >= loop and least_read(survivor, sid) >= loop,
                   HANG_S, "a loop of footage on every camera")

        cut_at = time.monotonic()
        proxy.cut()
        me = survivor.sessions.manager.runner_id
        wait_until(lambda: owners(survivor, sid) == Counter({me: CAMERAS}), HANG_S,
                   "the survivor holding all six leases")
        took_s = time.monotonic() - cut_at
        wait_until(lambda: running_here(survivor, sid) == CAMERAS, HANG_S,
                   "the survivor reading all six cameras")
        assert doomed.sessions.manager.cameras(sid) is None  # it fenced itself off
        # And a loop on the moved cameras: people the lost runner reported are not again.
        wait_until(lambda: least_read(survivor, sid) >= loop, HANG_S,
                   "a loop of footage on the moved cameras")
        print(f"take-over after the cut: {took_s:.2f} s (renew 0.5 s, expiry 2 s)")

        assert client.post(f"/api/v1/sessions/{sid}/stop").status_code == 200
        stored = all_events(client, sid)
        wanted = {e["id"] for e in stored}
        wait_until(lambda: wanted <= {r.event_id for r in receiver.accepted}, HANG_S,
                   "every stored event delivered")
    recognitions = [e for e in stored if e["type"] == "recognition"]
    reported = Counter(e["data"]["person"]["person_id"] for e in recognitions)
    assert all(n == 1 for n in reported.values()), reported
    assert stored[-1]["type"] == "session.ended"

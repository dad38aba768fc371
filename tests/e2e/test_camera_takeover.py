"""Two `facebank serve` processes ("machines": own data dir and port) on one PostgreSQL
share six cameras 3/3; kill -9 one and the other takes all six (issue 13)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.pipeline.pipeline import FacePipeline
from tests.dbservers import fresh_database
from tests.e2e.server import ServerProcess
from tests.e2e.test_session_resume import ENV
from tests.sessions.scene import build_scene
from tests.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

CAMERAS = 6
HANG_S = 120.0  # only a hang takes this long


def _wait(condition: Any, what: str, *servers: ServerProcess) -> None:
    """wait_until, with the servers' log tails when it times out."""
    try:
        wait_until(condition, HANG_S, what, poll_s=0.1)
    except AssertionError as exc:
        logs = "\n".join(s.log_tail() for s in servers)
        raise AssertionError(f"{exc}\n{logs}") from None


def _owner_pids(engine: Engine, sid: int) -> Counter[int | None]:
    """Which process (by pid, from the runner id host:pid:random) holds each camera."""
    with engine.connect() as conn:
        owners = conn.execute(
            text("SELECT lease_owner FROM session_cameras WHERE session_id = :sid"), {"sid": sid}
        ).scalars()
        return Counter(None if o is None else int(o.split(":")[1]) for o in owners)


def _running(client: httpx.Client, sid: int) -> int:
    cameras = client.get(f"/api/v1/sessions/{sid}").json()["cameras"]
    return sum(c["status"] == "running" and c["frames_read"] is not None for c in cameras)


def test_two_servers_share_six_cameras_and_the_survivor_takes_them_after_kill_minus_nine(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    jpegs = build_scene(face_pipeline).jpegs()[:20]
    cams = [MjpegCamera(jpegs, 2).start() for _ in range(CAMERAS)]
    servers: list[ServerProcess] = []
    try:
        with fresh_database("postgresql") as url:
            env = {**ENV, "FACEBANK_DATABASE_URL": url,
                   "FACEBANK_SECRET_KEY": "e2e-shared-secret-key-0123456789"}
            doomed = ServerProcess(tmp_path / "a", env).start()
            servers.append(doomed)
            survivor = ServerProcess(tmp_path / "b", env).start()
            servers.append(survivor)
            assert doomed.process is not None and survivor.process is not None
            engine = create_engine(url)
            try:
                with httpx.Client(base_url=survivor.url, timeout=30,
                                  headers=survivor.headers) as client:
                    made = client.post("/api/v1/sessions", json={
                        "key": "takeover",
                        "cameras": [{"url": c.url, "name": f"cam{i}", "fps": 1}
                                    for i, c in enumerate(cams)],
                    })
                    assert made.status_code == 201, made.text
                    sid = made.json()["id"]
                    pids = (doomed.process.pid, survivor.process.pid)
                    _wait(lambda: _owner_pids(engine, sid) == Counter(dict.fromkeys(pids, 3)),
                          "the six cameras split 3/3", *servers)
                    _wait(lambda: _running(client, sid) == 3, "the survivor reading three",
                          *servers)

                    killed_at = time.monotonic()
                    doomed.kill_hard()
                    _wait(lambda: _owner_pids(engine, sid) == Counter({pids[1]: CAMERAS}),
                          "the survivor holding all six leases", survivor)
                    took_s = time.monotonic() - killed_at
                    _wait(lambda: _running(client, sid) == CAMERAS,
                          "the survivor reading all six", survivor)
                    print(f"take-over after kill -9: {took_s:.2f} s (defaults: renew 2 s, "
                          "expiry 6 s; bound 9.5 s)")
                    assert client.post(f"/api/v1/sessions/{sid}/stop").status_code == 200
            finally:
                for server in servers:
                    server.stop()
                engine.dispose()
    finally:
        for cam in cams:
            cam.close()

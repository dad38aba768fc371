"""kill -9 during a burst of concurrent enrolls: after restart the index agrees with the
database and every acknowledged person is there with all its faces."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import identity_photos
from tests.e2e.server import ServerProcess

pytestmark = pytest.mark.slow

WRITERS = 6


def _enroll_until_stopped(
    server: ServerProcess,
    photos: list[Path],
    acked: list[dict],
    stop: threading.Event,
    worker: int,
) -> None:
    with httpx.Client(base_url=server.url, timeout=30, headers=server.headers) as client:
        n = 0
        while not stop.is_set():
            chosen = [photos[(worker + n) % len(photos)], photos[(worker + n + 1) % len(photos)]]
            files = [("photos", (p.name, p.read_bytes(), "image/jpeg")) for p in chosen]
            name = f"burst-{worker}-{n}"
            try:
                # The same photos under many names on purpose: the burst is of writes.
                data = {"name": name, "allow_duplicate": "true"}
                response = client.post("/api/v1/people", data=data, files=files)
            except httpx.HTTPError:
                return  # the server died under us: this request was never acknowledged
            if response.status_code == 201:
                body = response.json()
                acked.append({"id": body["id"], "faces": sorted(f["id"] for f in body["faces"])})
            n += 1


def test_kill_minus_nine_during_enroll_burst(tmp_path: Path) -> None:
    photos = [p for ps in identity_photos().values() for p in ps if p.stat().st_size < 400_000]
    server = ServerProcess(tmp_path / "data").start()
    acked: list[dict] = []
    stop = threading.Event()
    writers = [
        threading.Thread(target=_enroll_until_stopped, args=(server, photos, acked, stop, w))
        for w in range(WRITERS)
    ]
    try:
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 60
        while len(acked) < 15 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill_hard()
    finally:
        stop.set()
        for writer in writers:
            writer.join(timeout=60)
    assert len(acked) >= 15, server.log_tail()

    restarted = ServerProcess(tmp_path / "data").start()
    try:
        with httpx.Client(base_url=restarted.url, timeout=30, headers=restarted.headers) as client:
            status = client.get("/api/v1/index").json()
            print(f"\n{len(acked)} acknowledged people; after restart: {status}")
            assert status["consistent"], status
            assert status["last_sync_kind"] in {"snapshot+log", "rebuild"}  # replayed the log
            assert status["index_size"] == status["db_count"]
            for person in acked:
                faces = client.get(f"/api/v1/people/{person['id']}/faces")
                assert faces.status_code == 200, faces.text
                assert sorted(f["id"] for f in faces.json()) == person["faces"]
            ready = client.get("/health/ready")
            assert ready.status_code == 200, ready.text
            assert status["db_count"] >= sum(len(p["faces"]) for p in acked)
    finally:
        restarted.stop()


def test_graceful_restart_loads_the_snapshot(tmp_path: Path) -> None:
    photos = identity_photos()["fr_obama"]
    server = ServerProcess(tmp_path / "data").start()
    try:
        with httpx.Client(base_url=server.url, timeout=30, headers=server.headers) as client:
            files = [("photos", (p.name, p.read_bytes(), "image/jpeg")) for p in photos[:3]]
            assert client.post("/api/v1/people", data={"name": "Obama"}, files=files).is_success
    finally:
        server.stop()
    restarted = ServerProcess(tmp_path / "data").start()
    try:
        status = httpx.get(
            f"{restarted.url}/api/v1/index", timeout=30, headers=restarted.headers
        ).json()
        assert status["last_sync_kind"] == "snapshot" and status["consistent"]
        assert status["index_size"] == 3
        print(f"\nsnapshot load took {status['last_sync_seconds']} s")
    finally:
        restarted.stop()

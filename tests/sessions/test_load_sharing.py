"""Many cameras on few cores: every camera's fps drops together (none starves) and the HTTP
API still answers promptly, because cameras get a fixed share of the inference threads."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from fastapi.testclient import TestClient

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.conftest import identity_photos
from tests.sessions.conftest import FAST, get, start, wait_until

CAMERAS, FPS = 6, 10.0


def test_overload_lowers_every_camera_evenly_and_spares_the_api(
    tmp_path: Path, face_pipeline: FacePipeline, scene_jpegs: list[bytes]
) -> None:
    cams = [MjpegCamera(scene_jpegs, FPS).start() for _ in range(CAMERAS)]
    photo = identity_photos()["fr_obama"][0]
    try:
        with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
            idle = _recognize_s(client, photo)
            sid = start(client, [{"url": c.url, "name": f"cam{i}", "fps": FPS}
                                 for i, c in enumerate(cams)], None)["id"]
            wait_until(lambda: all(c["status"] == "running" for c in get(client, sid)["cameras"]),
                       20, "all cameras running")
            time.sleep(2)
            before = {c["name"]: c for c in get(client, sid)["cameras"]}
            loaded = [_recognize_s(client, photo) for _ in range(5)]
            time.sleep(3)
            after = {c["name"]: c for c in get(client, sid)["cameras"]}
            client.post(f"/api/v1/sessions/{sid}/stop")
    finally:
        for cam in cams:
            cam.close()
    done = [after[n]["frames_processed"] - before[n]["frames_processed"] for n in after]
    dropped = sum(after[n]["frames_dropped"] - before[n]["frames_dropped"] for n in after)
    print(f"\nframes processed per camera: {done}, dropped: {dropped}; "
          f"/recognize idle {idle:.3f} s, under load median {statistics.median(loaded):.3f} s")
    assert min(done) >= 0.7 * max(done), done  # nobody starves
    assert statistics.median(loaded) < max(1.0, 5 * idle), (idle, loaded)


def _recognize_s(client: TestClient, photo: Path) -> float:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/recognize",
        files=[("file", (photo.name, photo.read_bytes(), "application/octet-stream"))],
    )
    assert response.status_code == 200, response.text
    return time.perf_counter() - started

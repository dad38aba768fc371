"""Many cameras on few cores: every camera's fps drops together (none starves) and the HTTP
API still answers promptly, because cameras get a fixed share of the inference threads."""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.conftest import identity_photos
from tests.sessions.conftest import FAST, get, start
from tests.waiting import wait_until

CAMERAS, FPS = 6, 10.0
WARM_FRAMES = 2  # per camera, before measuring: every camera is streaming and analysed
MEASURED_FRAMES = 15 * CAMERAS  # enough that one frame more or less is no unfairness
# Only a stalled session takes this long; a loaded machine just analyses fewer frames a second.
DEADLINE_S = 90.0


def test_overload_lowers_every_camera_evenly_and_spares_the_api(
    tmp_path: Path, face_pipeline: FacePipeline, scene_jpegs: list[bytes]
) -> None:
    cams = [MjpegCamera(scene_jpegs, FPS).start() for _ in range(CAMERAS)]
    photo = identity_photos()["fr_obama"][0]
    try:
        with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
            idle = statistics.median(_recognize_s(client, photo) for _ in range(3))
            sid = start(
                client,
                [{"url": c.url, "name": f"cam{i}", "fps": FPS} for i, c in enumerate(cams)],
                None,
            )["id"]
            wait_until(
                lambda: all(
                    c["status"] == "running" and c["frames_processed"] >= WARM_FRAMES
                    for c in _cameras(client, sid).values()
                ),
                DEADLINE_S,
                "every camera running and analysed",
            )
            before = _cameras(client, sid)
            loaded = [_recognize_s(client, photo) for _ in range(5)]
            wait_until(
                lambda: sum(_processed_since(before, _cameras(client, sid))) >= MEASURED_FRAMES,
                DEADLINE_S,
                f"{MEASURED_FRAMES} frames analysed",
            )
            after = _cameras(client, sid)
            client.post(f"/api/v1/sessions/{sid}/stop")
    finally:
        for cam in cams:
            cam.close()
    done = _processed_since(before, after)
    dropped = sum(after[n]["frames_dropped"] - before[n]["frames_dropped"] for n in after)
    print(
        f"\nframes processed per camera: {done}, dropped: {dropped}; "
        f"/recognize idle {idle:.3f} s, under load median {statistics.median(loaded):.3f} s"
    )
    assert min(done) >= 0.7 * max(done), done  # nobody starves
    assert statistics.median(loaded) < max(1.0, 5 * idle), (idle, loaded)


def _cameras(client: TestClient, sid: int) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in get(client, sid)["cameras"]}


def _processed_since(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> list[int]:
    return [after[n]["frames_processed"] - before[n]["frames_processed"] for n in after]


def _recognize_s(client: TestClient, photo: Path) -> float:
    started = time.perf_counter()
    response = client.post(
        "/api/v1/recognize",
        files=[("file", (photo.name, photo.read_bytes(), "application/octet-stream"))],
    )
    assert response.status_code == 200, response.text
    return time.perf_counter() - started

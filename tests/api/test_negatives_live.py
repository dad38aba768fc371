"""A live session honours "not this person": a camera showing a stranger, at a low session
threshold, reports them as deepface_id07 until that photo is marked not deepface_id07."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.api.test_negatives import B_ENROLLED, LOW, STRANGER, enroll, mark_not
from tests.sessions.conftest import FAST, HANG_S, all_events, get, start
from tests.waiting import wait_until

FPS = 5


def _embedded(client: TestClient, sid: int) -> int:
    return int(get(client, sid)["cameras"][0]["faces_embedded"] or 0)


def _reported(client: TestClient, sid: int) -> list[Any]:
    events = all_events(client, sid)
    return [e["data"]["person"]["person_id"] for e in events if e["type"] == "recognition"]


def test_a_session_stops_reporting_a_person_marked_not(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    camera = MjpegCamera([STRANGER.read_bytes()], FPS, loop=True).start()
    try:
        with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
            b = enroll(client, "B", B_ENROLLED)
            cameras = [{"url": camera.url, "fps": FPS}]
            first = start(client, cameras, None, threshold=LOW)["id"]
            wait_until(lambda: b in _reported(client, first), HANG_S, "the false match")
            needed = _embedded(client, first)  # embeddings it took to confirm B
            assert client.post(f"/api/v1/sessions/{first}/stop").is_success

            mark_not(client, b, STRANGER)
            second = start(client, cameras, None, threshold=LOW, key="slot-2")["id"]
            wait_until(
                lambda: _embedded(client, second) >= needed + 3, HANG_S, "as many embeddings"
            )
            assert client.post(f"/api/v1/sessions/{second}/stop").is_success
            assert _reported(client, second) == []
    finally:
        camera.close()

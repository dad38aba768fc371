"""kill -9 in the middle of a live session: after restart the session carries on (camera
reopened, undelivered events delivered), no event is lost and none is delivered twice."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.e2e.server import ServerProcess
from tests.sessions.scene import ENROLLED, build_scene

pytestmark = pytest.mark.slow

SECRET = "resume-secret-0123456789"
ENV = {
    "FACEBANK_CAMERA_READ_TIMEOUT_S": "2",
    "FACEBANK_CAMERA_OPEN_TIMEOUT_S": "2",
    "FACEBANK_CAMERA_BACKOFF_INITIAL_S": "0.2",
    "FACEBANK_CAMERA_BACKOFF_MAX_S": "1",
    "FACEBANK_WEBHOOK_BACKOFF_INITIAL_S": "0.2",
    "FACEBANK_WEBHOOK_BACKOFF_MAX_S": "1",
}


def _wait(condition: Any, timeout: float, what: str, server: ServerProcess) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{server.log_tail()}")
        time.sleep(0.1)


def _events(client: httpx.Client, sid: int) -> list[dict[str, Any]]:
    body = client.get(f"/api/v1/sessions/{sid}/events", params={"limit": 500}).json()
    assert not body["has_more"]
    return list(body["items"])


def _recognitions(client: httpx.Client, sid: int) -> list[dict[str, Any]]:
    return [e for e in _events(client, sid) if e["type"] == "recognition"]


def test_session_resumes_after_kill_minus_nine(tmp_path: Path, face_pipeline: FacePipeline) -> None:
    scene = build_scene(face_pipeline)
    camera = MjpegCamera(scene.jpegs(), scene.fps, loop=True).start()
    receiver = WebhookReceiver(SECRET).start()
    data = tmp_path / "data"
    server = ServerProcess(data, ENV).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30, headers=server.headers) as client:
            ids = {}
            for label, photo in scene.enrol_photos.items():
                files = [("photos", (photo.name, photo.read_bytes(), "image/jpeg"))]
                made = client.post("/api/v1/people", data={"name": label}, files=files)
                assert made.status_code == 201, made.text
                ids[label] = made.json()["id"]
            started = client.post("/api/v1/sessions", json={
                "key": "slot-resume",
                "cameras": [{"url": camera.url, "fps": scene.fps}],
                "webhook": {"url": receiver.url, "secret": SECRET},
            })
            assert started.status_code == 201, started.text
            sid = started.json()["id"]
            # The first recognition is delivered; then the receiver goes down, so the next
            # one is stored but undelivered when the process dies.
            _wait(lambda: any(r.event_type == "recognition" for r in receiver.accepted), 40,
                  "a delivered recognition", server)
            receiver.set_up(False)
            _wait(lambda: len(_recognitions(client, sid)) >= 2, 40, "a second recognition",
                  server)
            _wait(lambda: any(not r.accepted for r in receiver.all), 10, "a refused delivery",
                  server)
            before_kill = len(_recognitions(client, sid))
        server.kill_hard()
        receiver.set_up(True)

        server = ServerProcess(data, ENV).start()
        with httpx.Client(base_url=server.url, timeout=30, headers=server.headers) as client:
            view = client.get(f"/api/v1/sessions/{sid}").json()
            assert view["status"] == "active"
            _wait(lambda: client.get(f"/api/v1/sessions/{sid}").json()["cameras"][0]["status"]
                  == "running", 30, "the camera reopened", server)
            # A whole loop of the footage read after the restart: everybody walks by again;
            # up to two more while somebody is missing (judged below). Frames, not seconds:
            # a loaded machine is shown the same footage.
            def frames_read() -> int:
                camera = client.get(f"/api/v1/sessions/{sid}").json()["cameras"][0]
                return int(camera["frames_read"] or 0)

            _wait(lambda: frames_read() >= scene.frame_count, 180, "a loop of footage", server)
            _wait(lambda: len(_recognitions(client, sid)) >= len(ENROLLED)
                  or frames_read() >= 3 * scene.frame_count, 180, "everybody, or three loops",
                  server)
            final = client.post(f"/api/v1/sessions/{sid}/stop").json()
            assert final["cameras"][0]["frames_processed"] > 0  # this process read frames
            # Somebody was first recognised by the restarted process (the walkers are seconds
            # apart and the kill follows the second recognition at once).
            assert before_kill < len(ENROLLED), before_kill
            events = _events(client, sid)
            assert receiver.wait_for(lambda got: len(got) >= len(events), 30)
            got = Counter(r.event_id for r in receiver.accepted)
            assert got == Counter(e["id"] for e in events), server.log_tail()
            assert all(r.signature_ok for r in receiver.all)
            reported = Counter(e["data"]["person"]["person_id"] for e in events
                               if e["type"] == "recognition")
            assert reported == Counter(ids[label] for label in ENROLLED)
            assert {p["person_id"]: p["events"] for p in final["people"]} == dict(reported)
            assert [e["type"] for e in events].count("session.started") == 1
    finally:
        server.stop()
        camera.close()
        receiver.close()

"""Cameras that stop answering: each is reported failed (and recovered when it comes back),
the session runs on with the others, and ends as `failed` once every camera is gone."""

from __future__ import annotations

from pathlib import Path

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.sessions.conftest import FAST, all_events, get, start
from tests.sessions.scene import Scene
from tests.waiting import wait_until

TIMEOUT = 30.0  # read timeout + backoff + open timeout, several times over


def test_failed_cameras_are_reported_and_the_last_one_fails_the_session(
    tmp_path: Path,
    face_pipeline: FacePipeline,
    scene: Scene,
    scene_jpegs: list[bytes],
    receiver: WebhookReceiver,
) -> None:
    hall = MjpegCamera(scene_jpegs, scene.fps).start()
    door = MjpegCamera(scene_jpegs, scene.fps).start()
    try:
        with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
            sid = start(
                client,
                [{"url": hall.url, "name": "hall", "fps": 5}, {"url": door.url, "name": "door",
                                                              "fps": 5}],
                receiver.url,
            )["id"]

            def cameras() -> dict[str, str]:
                return {c["name"]: c["status"] for c in get(client, sid)["cameras"]}

            def types() -> list[tuple[str, str | None]]:
                return [
                    (e["type"], (e["data"].get("camera") or {}).get("name"))
                    for e in all_events(client, sid)
                ]

            wait_until(lambda: cameras() == {"hall": "running", "door": "running"}, TIMEOUT,
                       "both cameras running")

            hall.stall()  # connection kept open, nothing sent, new connections hang
            wait_until(lambda: ("session.camera_failed", "hall") in types(), TIMEOUT,
                       "hall reported failed")
            view = get(client, sid)
            assert view["status"] == "active"
            by_name = {c["name"]: c for c in view["cameras"]}
            assert by_name["door"]["status"] == "running" and by_name["door"]["fps"] > 0
            assert by_name["hall"]["last_error"]

            hall.resume()
            wait_until(lambda: ("session.camera_recovered", "hall") in types(), TIMEOUT,
                       "hall recovered")

            hall.stall()
            door.close()  # refuses connections from now on
            wait_until(lambda: get(client, sid)["status"] != "active", TIMEOUT,
                       "the session to fail")
            final = get(client, sid)
            assert final["status"] == "failed"
            assert final["reason"].startswith("every camera failed")
            assert "hall" in final["reason"] and "door" in final["reason"]
            events = types()
            assert events[-1] == ("session.failed", None)
            assert events.count(("session.camera_failed", "door")) == 1
            assert events.count(("session.camera_failed", "hall")) == 2
            assert receiver.wait_for(lambda got: len(got) >= len(events), 20)
            assert {r.event_id for r in receiver.accepted} == {
                e["id"] for e in all_events(client, sid)
            }
            # The key is free again once the session is over.
            again = client.post("/api/v1/sessions", json={"key": "slot-1", "cameras": [
                {"url": door.url}]})
            assert again.status_code == 201, again.text
            client.post(f"/api/v1/sessions/{again.json()['id']}/stop")
    finally:
        hall.close()
        door.close()

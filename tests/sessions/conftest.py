"""Fixtures for live-session tests: the footage (built once per run from the real photos),
a webhook receiver on loopback, and helpers to enroll the people and drive a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.sessions.scene import Scene, build_scene
from tests.waiting import wait_until

SECRET = "test-secret-0123456789"

# Short timeouts and backoffs, so failures and retries happen within a test's seconds.
FAST: dict[str, Any] = {
    "camera_open_timeout_s": 2.0,
    "camera_read_timeout_s": 2.0,
    "camera_backoff_initial_s": 0.2,
    "camera_backoff_max_s": 1.0,
    "camera_max_failures": 2,
    "webhook_backoff_initial_s": 0.2,
    "webhook_backoff_max_s": 1.0,
    "webhook_timeout_s": 2.0,
}


@pytest.fixture(scope="session")
def scene(face_pipeline: FacePipeline) -> Scene:
    return build_scene(face_pipeline)


@pytest.fixture(scope="session")
def scene_video(scene: Scene, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scene.write(tmp_path_factory.mktemp("footage") / "walkers.avi")


@pytest.fixture(scope="session")
def scene_jpegs(scene: Scene) -> list[bytes]:
    return scene.jpegs()


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    hook = WebhookReceiver(SECRET).start()
    yield hook
    hook.close()


def enroll(client: TestClient, scene: Scene) -> dict[str, int]:
    """identity -> person id, each enrolled from one photo not shown in the video."""
    ids = {}
    for label, photo in scene.enrol_photos.items():
        response = client.post(
            "/api/v1/people",
            data={"name": label},
            files=[("photos", (photo.name, photo.read_bytes(), "application/octet-stream"))],
        )
        assert response.status_code == 201, response.text
        ids[label] = response.json()["id"]
    return ids


def start(client: TestClient, cameras: list[dict[str, Any]], hook_url: str | None,
          **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"key": "slot-1", "cameras": cameras, **fields}
    if hook_url is not None:
        body["webhook"] = {"url": hook_url, "secret": SECRET}
    response = client.post("/api/v1/sessions", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def get(client: TestClient, session_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/sessions/{session_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def all_events(client: TestClient, session_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = client.get(f"/api/v1/sessions/{session_id}/events",
                          params={"after": after, "limit": 50}).json()
        items += page["items"]
        after = page["next_after"]
        if not page["has_more"]:
            return items


# Only a hang reaches this: the waits below count frames, not seconds.
HANG_S = 180.0


def frames_read(client: TestClient, sid: int) -> int:
    return int(get(client, sid)["cameras"][0]["frames_read"] or 0)


def watch_loop(client: TestClient, sid: int, loop_frames: int, people: int) -> None:
    """Let a looping camera deliver one whole loop of footage, and up to two more loops while
    fewer than `people` were recognised. Counted in frames read, so a loaded machine (which
    analyses fewer of them) is shown the same footage; the tests judge who is reported."""
    wait_until(lambda: frames_read(client, sid) >= loop_frames, HANG_S, "one loop of footage")

    def recognised() -> int:
        return sum(e["type"] == "recognition" for e in all_events(client, sid))

    wait_until(
        lambda: recognised() >= people or frames_read(client, sid) >= 3 * loop_frames,
        HANG_S,
        "everybody recognised, or three loops of footage",
    )

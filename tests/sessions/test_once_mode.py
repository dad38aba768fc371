"""A whole session over the synthetic footage, served as an MJPEG camera and as a file:
everybody enrolled who walks through is reported exactly once, nobody else is, every
webhook is signed, and the final summary agrees with the events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.sessions.conftest import (
    FAST,
    all_events,
    enroll,
    get,
    start,
    wait_until,
    watch_loop,
)
from tests.sessions.scene import ENROLLED, Scene


@contextmanager
def camera_for(kind: str, scene: Scene, video: Path, jpegs: list[bytes]) -> Iterator[str]:
    if kind == "file":
        yield str(video)
        return
    mjpeg = MjpegCamera(jpegs, scene.fps, loop=True).start()
    try:
        yield mjpeg.url
    finally:
        mjpeg.close()


@pytest.mark.parametrize("kind", ["mjpeg", "file"])
def test_each_person_in_the_video_is_reported_once(
    kind: str,
    tmp_path: Path,
    face_pipeline: FacePipeline,
    scene: Scene,
    scene_video: Path,
    scene_jpegs: list[bytes],
    receiver: WebhookReceiver,
) -> None:
    with (
        running_app("sqlite", tmp_path, face_pipeline, **FAST) as client,
        camera_for(kind, scene, scene_video, scene_jpegs) as url,
    ):
        ids = enroll(client, scene)
        session = start(client, [{"url": url, "name": kind, "fps": scene.fps}], receiver.url)
        sid = session["id"]
        if kind == "file":  # a file plays once, then the session ends by itself
            wait_until(lambda: get(client, sid)["status"] != "active", scene.duration_s + 30,
                       "the video to play out")
            final = get(client, sid)
            assert (final["status"], final["reason"]) == ("ended", "every camera finished")
        else:  # the live stream loops: a full loop after connecting has shown everybody
            watch_loop(client, sid, scene.frame_count, len(ENROLLED))
            response = client.post(f"/api/v1/sessions/{sid}/stop")
            assert response.status_code == 200, response.text
            final = response.json()
            assert final["status"] == "ended"
        assert receiver.wait_for(lambda got: any(r.event_type == "session.ended" for r in got), 20)
        _check(client, sid, final, ids, receiver)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _check(client: TestClient, sid: int, final: dict, ids: dict[str, int],
           receiver: WebhookReceiver) -> None:
    events = all_events(client, sid)
    recognitions = [e for e in events if e["type"] == "recognition"]
    reported = Counter(e["data"]["person"]["person_id"] for e in recognitions)
    in_video = {ids[label] for label in ENROLLED}
    # Exactly once each, and nobody else: not the enrolled people who never walked by, and
    # not the stranger who did (nobody may be reported in their place).
    assert reported == Counter(in_video), (reported, ids)

    # Every event reached the webhook once, signed; the body is the event as stored.
    got = receiver.accepted
    assert all(r.signature_ok for r in receiver.all)
    assert Counter(r.event_id for r in got) == Counter(e["id"] for e in events)
    stored = {e["id"]: e for e in events}
    for r in got:
        assert r.payload["id"] == r.event_id and r.payload["type"] == stored[r.event_id]["type"]
        assert r.payload["data"] == stored[r.event_id]["data"]
    assert events[0]["type"] == "session.started"
    assert events[-1]["type"] == "session.ended"

    # The summary (API and the final webhook) agrees with the recognitions.
    people = {p["person_id"]: p for p in final["people"]}
    assert set(people) == in_video
    assert all(p["events"] == 1 and p["sightings"] >= 1 for p in people.values())
    assert final["events"]["recognition"] == len(in_video)
    for e in recognitions:
        person = people[e["data"]["person"]["person_id"]]
        seen_at = _time(e["data"]["seen_at"])
        assert _time(person["first_seen"]) <= seen_at <= _time(person["last_seen"])
    ended = events[-1]["data"]["people"]
    assert {p["person_id"]: p["events"] for p in ended} == {pid: 1 for pid in in_video}

    # Evidence of every recognition can be downloaded.
    for e in recognitions:
        for kind in ("face", "frame"):
            image = client.get(f"/api/v1/sessions/{sid}/events/{e['id']}/evidence/{kind}")
            assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"

"""`every` mode: people are reported again while they stay in view, at most once per person
per cooldown, and still nobody who is not in the video; `ends_at` ends a session on time."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.sessions.conftest import FAST, all_events, enroll, get, start
from tests.sessions.scene import ENROLLED, Scene
from tests.waiting import wait_until

COOLDOWN_S = 1.0


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_every_mode_reports_again_after_the_cooldown(
    tmp_path: Path, face_pipeline: FacePipeline, scene: Scene, scene_video: Path,
    receiver: WebhookReceiver,
) -> None:
    with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
        ids = enroll(client, scene)
        sid = start(client, [{"url": str(scene_video), "fps": scene.fps}], receiver.url,
                    mode="every", cooldown_s=COOLDOWN_S)["id"]
        wait_until(lambda: get(client, sid)["status"] != "active", scene.duration_s + 30,
                   "the video to play out")
        events = all_events(client, sid)
        seen: dict[int, list[datetime]] = defaultdict(list)
        for e in events:
            if e["type"] == "recognition":
                seen[e["data"]["person"]["person_id"]].append(_time(e["data"]["seen_at"]))
        assert set(seen) == {ids[label] for label in ENROLLED}
        assert max(len(times) for times in seen.values()) >= 2  # a standing person, again
        for times in seen.values():
            gaps = [(b - a).total_seconds() for a, b in pairwise(times)]
            assert all(gap >= COOLDOWN_S - 1e-3 for gap in gaps), gaps
        final = get(client, sid)
        assert {p["person_id"]: p["events"] for p in final["people"]} == {
            pid: len(times) for pid, times in seen.items()}
        assert receiver.wait_for(lambda got: len(got) >= len(events), 20)
        assert {r.event_id for r in receiver.accepted} == {e["id"] for e in events}


def test_a_session_ends_at_its_end_time(
    tmp_path: Path, face_pipeline: FacePipeline, scene_jpegs: list[bytes]
) -> None:
    camera = MjpegCamera(scene_jpegs[:10], 5).start()
    try:
        with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
            ends_at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
            sid = start(client, [{"url": camera.url}], None, ends_at=ends_at)["id"]
            wait_until(lambda: get(client, sid)["status"] != "active", 15, "the end time")
            final = get(client, sid)
            assert (final["status"], final["reason"]) == ("ended", "end time reached")
            assert all_events(client, sid)[-1]["type"] == "session.ended"
    finally:
        camera.close()

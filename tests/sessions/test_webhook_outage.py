"""The webhook receiver is down for the first part of a session, then up: every event still
arrives, none twice, each attempt is recorded; a replay re-sends the same event id."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.sessions.conftest import FAST, all_events, enroll, start, watch_loop
from tests.sessions.scene import ENROLLED, Scene
from tests.waiting import wait_until


def test_events_survive_a_receiver_outage(
    tmp_path: Path,
    face_pipeline: FacePipeline,
    scene: Scene,
    scene_jpegs: list[bytes],
    receiver: WebhookReceiver,
) -> None:
    mjpeg = MjpegCamera(scene_jpegs, scene.fps, loop=True).start()
    try:
        with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
            ids = enroll(client, scene)
            receiver.set_up(False)
            sid = start(client, [{"url": mjpeg.url, "fps": scene.fps}], receiver.url)["id"]

            def recognised() -> int:
                return sum(e["type"] == "recognition" for e in all_events(client, sid))

            # Down until the first person was recognised (and refused at least once).
            wait_until(lambda: recognised() >= 1, scene.duration_s + 10, "a recognition")
            wait_until(lambda: any(r.event_type == "recognition" for r in receiver.all), 10,
                       "a refused delivery")
            assert receiver.accepted == []
            receiver.set_up(True)
            watch_loop(client, sid, scene.frame_count, len(ENROLLED))
            assert client.post(f"/api/v1/sessions/{sid}/stop").status_code == 200
            events = all_events(client, sid)
            assert receiver.wait_for(lambda got: len(got) >= len(events), 30)

            got = Counter(r.event_id for r in receiver.accepted)
            assert got == Counter(e["id"] for e in events)  # all of them, none twice
            assert all(r.signature_ok for r in receiver.all)
            refused = [r for r in receiver.all if not r.accepted]
            assert refused and {r.event_id for r in refused} <= set(got)
            reported = Counter(
                e["data"]["person"]["person_id"] for e in events if e["type"] == "recognition"
            )
            assert reported == Counter(ids[label] for label in ENROLLED)

            # The delivery log shows the failed attempts, then the success.
            page = client.get(f"/api/v1/sessions/{sid}/deliveries").json()
            assert page["total"] == len(events)
            assert {d["status"] for d in page["items"]} == {"delivered"}
            retried = [d for d in page["items"] if d["attempts"] > 1]
            assert retried
            detail = client.get(f"/api/v1/sessions/{sid}/deliveries/{retried[0]['id']}").json()
            codes = [a["status_code"] for a in detail["attempt_log"]]
            assert codes[:-1] == [503] * (len(codes) - 1) and codes[-1] == 204

            # A replay sends the same event (same id, so a receiver can drop it) once more.
            event_id = retried[0]["event_id"]
            replay = client.post(f"/api/v1/sessions/{sid}/events/{event_id}/replay")
            assert replay.status_code == 202, replay.text
            assert replay.json()["replay"] is True
            wait_until(lambda: Counter(r.event_id for r in receiver.accepted)[event_id] == 2,
                       10, "the replay")
    finally:
        mjpeg.close()

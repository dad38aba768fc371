"""A receiver that stays down: deliveries are retried for the configured time, then marked
failed with every attempt recorded; "replay failed" sends them again once it is back. Runs
on every database, with the repositories' locking and leases."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, running_app
from tests.sessions.conftest import FAST, all_events, start
from tests.waiting import wait_until

RETRY_FOR_S = 2.0


@pytest.mark.parametrize("kind", BACKENDS)
def test_deliveries_give_up_after_the_retry_time_and_can_be_replayed(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline, scene_jpegs: list[bytes],
    receiver: WebhookReceiver,
) -> None:
    camera = MjpegCamera(scene_jpegs[:10], 5).start()
    settings = {**FAST, "webhook_retry_for_s": RETRY_FOR_S}
    try:
        with running_app(kind, tmp_path, face_pipeline, **settings) as client:
            receiver.set_up(False)
            sid = start(client, [{"url": camera.url, "fps": 2}], receiver.url)["id"]
            assert client.post(f"/api/v1/sessions/{sid}/stop").status_code == 200
            events = all_events(client, sid)
            assert [e["type"] for e in events] == ["session.started", "session.ended"]

            def deliveries(status: str) -> list[dict]:
                page = client.get(f"/api/v1/sessions/{sid}/deliveries",
                                  params={"status": status}).json()
                return list(page["items"])

            wait_until(lambda: len(deliveries("failed")) == 2, RETRY_FOR_S + 15,
                       "the deliveries to give up")
            for d in deliveries("failed"):
                assert d["attempts"] >= 2 and d["last_status_code"] == 503
                detail = client.get(f"/api/v1/sessions/{sid}/deliveries/{d['id']}").json()
                assert len(detail["attempt_log"]) == d["attempts"]
            assert receiver.accepted == []

            receiver.set_up(True)
            replayed = client.post(f"/api/v1/sessions/{sid}/deliveries/replay-failed")
            assert replayed.json() == {"requeued": 2}
            assert receiver.wait_for(lambda got: len(got) >= 2, 15)
            assert Counter(r.event_id for r in receiver.accepted) == Counter(
                e["id"] for e in events)
            wait_until(lambda: len(deliveries("delivered")) == 2, 10, "delivered status")
    finally:
        camera.close()

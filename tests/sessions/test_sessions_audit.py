"""Every write under /api/v1/sessions (start, stop, replay one event, replay the failed
deliveries) leaves an audit entry naming its actor; a refused write leaves none."""

from __future__ import annotations

from pathlib import Path

from facebank.auth.roles import Role
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import app_client as make_client
from tests.api.conftest import running_services
from tests.sessions.conftest import FAST, start


def test_session_writes_are_audited_with_their_actor(
    tmp_path: Path, face_pipeline: FacePipeline, receiver: WebhookReceiver
) -> None:
    footage = tmp_path / "clip.avi"  # exists, so the session starts; reading it fails later
    footage.write_bytes(b"not a video")
    with (
        running_services("sqlite", tmp_path / "data", face_pipeline, **FAST) as services,
        make_client(services, Role.OPERATOR) as operator,
        make_client(services) as admin,
    ):
        sid = start(operator, [{"url": str(footage)}], receiver.url)["id"]
        started = operator.get(f"/api/v1/sessions/{sid}/events").json()["items"][0]
        base = f"/api/v1/sessions/{sid}"
        replayed = operator.post(f"{base}/events/{started['id']}/replay")
        assert replayed.status_code == 202, replayed.text
        assert operator.post(f"{base}/events/evt_missing/replay").status_code == 404
        assert operator.post(f"{base}/deliveries/replay-failed").status_code == 200
        assert operator.post(f"{base}/stop").status_code == 200

        log = admin.get("/api/v1/audit", params={"target_kind": "session"}).json()["items"]
        assert [(e["action"], e["details"]) for e in reversed(log)] == [
            ("start", {"key": "slot-1", "cameras": 1}),
            ("replay", {"event_id": started["id"], "delivery_id": replayed.json()["id"]}),
            ("replay", {"requeued": 0}),
            ("stop", {"key": "slot-1"}),
        ]
        actors = {(e["actor_kind"], e["actor_name"], e["target_id"]) for e in log}
        assert actors == {("api_key", "tests-operator", str(sid))}

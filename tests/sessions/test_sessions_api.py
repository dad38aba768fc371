"""The sessions API around a running session: conflicts, validation, roles, listing, paging,
the live event stream, and the shape of what the webhook and the API return."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facebank.auth.roles import Role
from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, running_services
from tests.api.conftest import app_client as make_client
from tests.sessions.conftest import FAST, SECRET, get, start
from tests.sessions.scene import Scene
from tests.waiting import wait_until


@pytest.mark.parametrize("kind", BACKENDS)
def test_sessions_api(kind: str, tmp_path: Path, face_pipeline: FacePipeline, scene: Scene,
                      scene_jpegs: list[bytes], scene_video: Path) -> None:
    camera = MjpegCamera(scene_jpegs[:20], scene.fps).start()
    try:
        with (
            running_services(kind, tmp_path, face_pipeline, **FAST) as services,
            make_client(services) as client,
        ):
            cams = [{"url": camera.url, "name": "door", "fps": 4}, {"url": str(scene_video),
                                                                    "loop": True}]
            session = start(client, cams, None)
            sid = session["id"]
            assert session["status"] == "active" and session["mode"] == "once"
            assert [c["name"] for c in session["cameras"]] == ["door", "camera-2"]

            # One active session per key.
            again = client.post("/api/v1/sessions", json={"key": "slot-1", "cameras": cams})
            assert again.status_code == 409
            assert again.json()["error"]["code"] == "conflict"

            # Bad input is a 422 naming the field, never a 500.
            for body in (
                {"key": "k", "cameras": []},
                {"key": "k", "cameras": [{"url": "ftp://cam/1"}]},
                {"key": "k", "cameras": [{"url": str(tmp_path / "missing.avi")}]},
                {"key": "k", "cameras": [{"url": "http:///nohost"}]},
                {"key": "k", "cameras": [{"url": camera.url}], "roster": [999999]},
                {"key": "k", "cameras": [{"url": camera.url}], "roster": []},
                {"key": "k", "cameras": [{"url": camera.url}],
                 "webhook": {"url": "ftp://x/y", "secret": SECRET}},
                {"key": "k", "cameras": [{"url": camera.url}],
                 "webhook": {"url": "http://127.0.0.1:9/h", "secret": "short"}},
                {"key": "k", "cameras": [{"url": camera.url}],
                 "ends_at": "2001-01-01T00:00:00Z"},
                {"key": "k", "cameras": [{"url": camera.url}], "mode": "sometimes"},
            ):
                response = client.post("/api/v1/sessions", json=body)
                assert response.status_code == 422, (body, response.text)
                assert response.json()["error"]["code"] == "validation_error"

            # Roles: a viewer reads, only operators and admins start and stop.
            with make_client(services, Role.VIEWER) as viewer:
                assert viewer.get(f"/api/v1/sessions/{sid}").status_code == 200
                assert viewer.post(f"/api/v1/sessions/{sid}/stop").status_code == 403
                denied = viewer.post("/api/v1/sessions", json={"key": "v", "cameras": cams})
                assert denied.status_code == 403
            anonymous = client.get(f"/api/v1/sessions/{sid}", headers={"X-API-Key": ""})
            assert anonymous.status_code == 401

            wait_until(lambda: all(c["fps"] for c in get(client, sid)["cameras"]), 20,
                       "measured fps on both cameras")
            view = get(client, sid)
            assert all(c["status"] == "running" and c["frames_processed"] > 0
                       for c in view["cameras"])

            assert client.get("/api/v1/sessions/999999").status_code == 404
            listed = client.get("/api/v1/sessions", params={"status": "active"}).json()
            assert [s["id"] for s in listed["items"]] == [sid]

            final = client.post(f"/api/v1/sessions/{sid}/stop").json()
            assert final["status"] == "ended" and final["reason"] == "stopped by request"
            assert final["ended_at"] is not None
            assert all(c["frames_processed"] > 0 for c in final["cameras"])
            assert client.post(f"/api/v1/sessions/{sid}/stop").json()["status"] == "ended"
            assert client.get("/api/v1/sessions", params={"status": "active"}).json()[
                "total"] == 0

            # Events page by cursor.
            first = client.get(f"/api/v1/sessions/{sid}/events", params={"limit": 1}).json()
            assert first["has_more"] and first["items"][0]["type"] == "session.started"
            rest = client.get(f"/api/v1/sessions/{sid}/events",
                              params={"after": first["next_after"]}).json()
            assert rest["items"][-1]["type"] == "session.ended"
            started_id = first["items"][0]["id"]
            missing = client.get(f"/api/v1/sessions/{sid}/events/{started_id}/evidence/face")
            assert missing.status_code == 404

            # The stream sends a status snapshot, every event, then the end.
            with client.stream("GET", f"/api/v1/sessions/{sid}/stream") as stream:
                text = "".join(stream.iter_text())
            blocks = [b for b in text.split("\n\n") if b.strip()]
            kinds = [b.split("event: ")[1].split("\n")[0] for b in blocks]
            assert kinds[0] == "status" and kinds[-1] == "end"
            assert kinds[1:-1] == [e["type"] for e in first["items"] + rest["items"]]
            data = json.loads(blocks[-1].split("data: ")[1])
            assert data == {"status": "ended"}
    finally:
        camera.close()

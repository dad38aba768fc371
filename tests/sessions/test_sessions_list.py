"""Listing sessions by status: one status, several (ended and failed: the past ones), or
all; newest first."""

from __future__ import annotations

from pathlib import Path

from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app
from tests.sessions.conftest import FAST, start


def test_list_by_one_or_several_statuses(
    tmp_path: Path, face_pipeline: FacePipeline, scene_video: Path
) -> None:
    with running_app("sqlite", tmp_path, face_pipeline, **FAST) as client:
        cams = [{"url": str(scene_video), "loop": True}]
        done = start(client, cams, None, key="done")["id"]
        running = start(client, cams, None, key="running")["id"]
        assert client.post(f"/api/v1/sessions/{done}/stop").status_code == 200

        def ids(**params: object) -> list[int]:
            response = client.get("/api/v1/sessions", params=params)
            assert response.status_code == 200, response.text
            return [s["id"] for s in response.json()["items"]]

        assert ids() == [running, done]
        assert ids(status="active") == [running]
        assert ids(status=["ended", "failed"]) == [done]
        assert ids(status=["failed"]) == []
        assert ids(status=["active", "ended"]) == [running, done]
        bad = client.get("/api/v1/sessions", params={"status": ["ended", "sometimes"]})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"

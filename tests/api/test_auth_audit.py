"""The audit log over HTTP: who changed which person and face, readable by admins, paged."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.api.security import API_KEY_HEADER
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, api_key_for, app_client, photo_file, running_services
from tests.conftest import identity_photos


@pytest.mark.parametrize("kind", BACKENDS)
def test_gallery_changes_are_audited_with_their_actor(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with (
        running_services(kind, tmp_path, face_pipeline) as services,
        app_client(services, role=Role.ADMIN) as admin,
    ):
        operator = {API_KEY_HEADER: api_key_for(services, Role.OPERATOR, "enroller")}
        photos = identity_photos()["fr_obama"]
        created = admin.post(
            "/api/v1/people",
            data={"name": "Obama"},
            files=[photo_file(photos[0], "photos")],
            headers=operator,
        )
        assert created.status_code == 201, created.text
        person = created.json()
        face_id = person["faces"][0]["id"]
        pid = person["id"]
        assert admin.patch(f"/api/v1/people/{pid}", json={"age": 61}, headers=operator).is_success
        assert admin.delete(f"/api/v1/faces/{face_id}", headers=operator).is_success
        assert admin.delete(f"/api/v1/people/{pid}", headers=operator).is_success
        assert admin.post("/api/v1/index/rebuild").is_success

        assert admin.get("/api/v1/audit", headers=operator).status_code == 403
        log = admin.get("/api/v1/audit").json()
        rows = [
            (e["actor_kind"], e["actor_name"], e["action"], e["target_kind"], e["target_id"])
            for e in log["items"]
        ]
        key_entries = [r for r in rows if r[3] == "api_key"]
        assert len(key_entries) == 2  # the two keys this test minted, by the system
        assert [r for r in rows if r[3] != "api_key"] == [
            ("api_key", "tests-admin", "rebuild", "index", None),
            ("api_key", "enroller", "delete", "person", str(pid)),
            ("api_key", "enroller", "delete", "face", str(face_id)),
            ("api_key", "enroller", "update", "person", str(pid)),
            ("api_key", "enroller", "create", "face", str(face_id)),
            ("api_key", "enroller", "create", "person", str(pid)),
        ]
        update = next(e for e in log["items"] if e["action"] == "update")
        assert update["details"] == {"fields": ["age"]}  # which fields, not their values

        page = admin.get("/api/v1/audit", params={"page": 2, "page_size": 3}).json()
        assert (page["total"], page["pages"], len(page["items"])) == (8, 3, 3)
        assert [e["id"] for e in page["items"]] == [e["id"] for e in log["items"][3:6]]
        only_faces = admin.get("/api/v1/audit", params={"target_kind": "face"}).json()
        assert {e["target_id"] for e in only_faces["items"]} == {str(face_id)}

"""A route that declares no access rule is admin-only: forgetting fails closed."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from facebank.api.app import create_app
from facebank.api.security import API_KEY_HEADER
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import api_key_for, running_services


def test_undeclared_route_is_admin_only(tmp_path: Path, face_pipeline: FacePipeline) -> None:
    with running_services("sqlite", tmp_path, face_pipeline) as services:
        app = create_app(services=services)

        @app.get("/api/v1/forgotten")
        def forgotten() -> dict[str, bool]:
            return {"reached": True}

        with TestClient(app) as client:
            assert client.get("/api/v1/forgotten").status_code == 401
            for role, status in ((Role.VIEWER, 403), (Role.OPERATOR, 403), (Role.ADMIN, 200)):
                headers = {API_KEY_HEADER: api_key_for(services, role, role.value)}
                assert client.get("/api/v1/forgotten", headers=headers).status_code == status

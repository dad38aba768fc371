"""The metrics scrape key: reads /metrics and /health/detailed, and nothing else."""

from __future__ import annotations

from pathlib import Path

from facebank.api.security import API_KEY_HEADER
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import api_key_for, running_app

SCRAPE_KEY = "scrape-" + "s" * 40


def test_scrape_key_reads_metrics_only(tmp_path: Path, face_pipeline: FacePipeline) -> None:
    with running_app(
        "sqlite", tmp_path, face_pipeline, role=None, metrics_scrape_key=SCRAPE_KEY
    ) as client:
        bearer = {"Authorization": f"Bearer {SCRAPE_KEY}"}
        header = {API_KEY_HEADER: SCRAPE_KEY}
        for path in ("/metrics", "/health/detailed"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers=bearer).status_code in (200, 503)
            assert client.get(path, headers=header).status_code in (200, 503)
        assert client.get("/api/v1/people", headers=bearer).status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        services = client.app.state.services  # type: ignore[attr-defined]
        viewer = {API_KEY_HEADER: api_key_for(services, Role.VIEWER)}
        admin = {API_KEY_HEADER: api_key_for(services, Role.ADMIN)}
        assert client.get("/metrics", headers=viewer).status_code == 403
        assert client.get("/metrics", headers=admin).status_code == 200

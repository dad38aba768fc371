"""Security headers on every answer; CORS closed unless origins are configured."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import running_app

ORIGIN = "https://ui.example"


def _preflight(client: TestClient) -> dict[str, str]:
    response = client.options(
        "/api/v1/people",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-api-key",
        },
    )
    return dict(response.headers)


def test_security_headers_everywhere(sqlite_client: TestClient) -> None:
    for response in (
        sqlite_client.get("/health/live"),
        sqlite_client.get("/api/v1/people"),
        sqlite_client.get("/api/v1/people", headers={"X-API-Key": "fbk_wrong"}),  # 401
        sqlite_client.get("/api/v1/nothing-here"),  # 404
    ):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["referrer-policy"] == "no-referrer"
    assert sqlite_client.get("/api/v1/people").headers["cache-control"] == "no-store"


def test_cors_is_closed_by_default(sqlite_client: TestClient) -> None:
    headers = _preflight(sqlite_client)
    assert "access-control-allow-origin" not in headers
    plain = sqlite_client.get("/api/v1/people", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in plain.headers


def test_cors_opens_for_configured_origins_only(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with running_app("sqlite", tmp_path, face_pipeline, cors_origins=[ORIGIN]) as client:
        headers = _preflight(client)
        assert headers["access-control-allow-origin"] == ORIGIN
        assert "x-api-key" in headers["access-control-allow-headers"].lower()
        other = client.options(
            "/api/v1/people",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
        assert "access-control-allow-origin" not in other.headers

"""Liveness, readiness, the summary and the detailed report, over a real app and models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from facebank.api.security import API_KEY_HEADER
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from facebank.store.db import make_engine, make_session_factory
from facebank.store.people import FaceRepository
from tests.api.conftest import api_key_for, photo_file, running_app
from tests.conftest import PEOPLE

SCRAPE_KEY = "scrape-" + "k" * 40


@pytest.fixture(scope="module")
def anonymous(
    tmp_path_factory: pytest.TempPathFactory, face_pipeline: FacePipeline
) -> Iterator[TestClient]:
    """An app with one enrolled person, and a client that sends no credentials."""
    data_dir = tmp_path_factory.mktemp("health")
    with running_app(
        "sqlite", data_dir, face_pipeline, role=None, metrics_scrape_key=SCRAPE_KEY
    ) as client:
        admin = {API_KEY_HEADER: api_key_for(services_of(client), Role.ADMIN)}
        photo = PEOPLE / "fr_biden" / "biden.jpg"
        response = client.post(
            "/api/v1/people",
            data={"name": "Joe Biden"},
            files=[photo_file(photo, "photos")],
            headers=admin,
        )
        assert response.status_code == 201, response.text
        yield client


def services_of(client: TestClient) -> Services:
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def key(client: TestClient, role: Role) -> dict[str, str]:
    return {API_KEY_HEADER: api_key_for(services_of(client), role, f"health-{role.value}")}


def test_live_needs_nothing(anonymous: TestClient) -> None:
    response = anonymous.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["X-Request-ID"]


def test_ready_names_every_check(anonymous: TestClient) -> None:
    response = anonymous.get("/health/ready")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["failing"] == []
    assert set(body["checks"]) == {"models", "database", "index"}
    assert body["checks"]["index"] == {
        "ok": True,
        "index_size": 1,
        "applied_version": 1,
        "db_version": 1,
    }


def test_summary_is_short(anonymous: TestClient) -> None:
    body = anonymous.get("/health").json()
    assert body["status"] == "ok"
    assert body["faces_indexed"] == 1
    assert body["model_id"].startswith("w600k_mbf")
    assert body["uptime_s"] >= 0 and body["version"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 401), ("viewer", 403), ("operator", 403), ("admin", 200), ("scrape", 200)],
)
def test_detailed_is_for_admins_and_the_scrape_key(
    anonymous: TestClient, who: str, status: int
) -> None:
    headers = (
        {}
        if who == "anonymous"
        else {"Authorization": f"Bearer {SCRAPE_KEY}"}
        if who == "scrape"
        else key(anonymous, Role(who))
    )
    response = anonymous.get("/health/detailed", headers=headers)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["error"]["code"]
        assert "uptime_s" not in response.text  # nothing leaks before the check


def test_detailed_report_has_what_an_operator_needs(anonymous: TestClient) -> None:
    anonymous.post("/api/v1/recognize", files=[photo_file(PEOPLE / "fr_biden" / "biden.jpg")],
                   headers=key(anonymous, Role.VIEWER))  # fmt: skip
    body: dict[str, Any] = anonymous.get(
        "/health/detailed", headers=key(anonymous, Role.ADMIN)
    ).json()
    assert body["status"] == "ok" and body["version"] and body["uptime_s"] >= 0
    assert body["models"]["providers"] == ["CPUExecutionProvider"]
    assert body["models"]["detector"].startswith("scrfd")
    assert body["database"]["kind"] == "sqlite"
    assert {"size", "checked_out"} <= set(body["database"]["pool"])
    index = body["index"]
    assert index["size"] == 1 and index["consistent"] is True and "IndexFlatIP" in index["type"]
    assert index["last_sync_kind"] in ("rebuild", "snapshot", "snapshot+log", "follow")
    assert index["last_sync"]
    system = body["system"]
    assert system["process"]["rss_mb"] > 0 and system["process"]["cpu_percent"] >= 0
    assert system["machine"]["cpu_count"] >= 1 and system["machine"]["disk"]["total_mb"] > 0
    recognize = body["requests"]["routes"]["POST /api/v1/recognize"]
    assert recognize["requests"] >= 1 and recognize["server_errors"] == 0
    assert 0 < recognize["p50_ms"] <= recognize["p95_ms"] <= recognize["p99_ms"]
    assert body["sessions"] == {"active_sessions": 0, "active_cameras": 0, "cameras": []}
    lanes = {lane["name"]: lane for lane in body["inference"]["lanes"]}
    assert lanes and all(lane["ort_threads"] >= 1 for lane in lanes.values())
    assert sum(lane["jobs"] for lane in lanes.values()) >= 1


def test_ready_turns_503_while_the_database_is_ahead_of_the_index(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    """A face deleted through another connection (another process): not ready until the
    index has applied that change, then ready again."""
    # Following off: it would take the change from the database on its own.
    with running_app("sqlite", tmp_path, face_pipeline, index_follow_interval_s=0) as client:
        photo = PEOPLE / "fr_obama" / "obama.jpg"
        created = client.post(
            "/api/v1/people", data={"name": "Barack"}, files=[photo_file(photo, "photos")]
        )
        assert created.status_code == 201
        assert client.get("/health/ready").status_code == 200
        services = services_of(client)
        other = make_engine(services.settings.effective_database_url, 1, 0)
        try:
            FaceRepository(make_session_factory(other)).delete(created.json()["faces"][0]["id"])
        finally:
            other.dispose()
        response = client.get("/health/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["failing"] == ["index"]
        assert body["checks"]["index"] == {
            "ok": False,
            "index_size": 1,
            "applied_version": 1,
            "db_version": 2,
        }
        assert client.get("/health").json()["failing"] == ["index"]
        assert services.index.follow() is True
        assert services.index.size == (0, 0)
        assert client.get("/health/ready").status_code == 200

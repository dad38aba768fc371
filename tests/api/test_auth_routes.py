"""Register, log in, who-am-I, password change, users and keys over HTTP, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from facebank.api.security import API_KEY_HEADER
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from tests.api.conftest import BACKENDS, app_client, running_services

PASSWORD = "correct horse battery"


@pytest.fixture(params=BACKENDS)
def fresh(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[TestClient, Services]]:
    """A fresh install: nobody registered, an anonymous client."""
    with (
        running_services(request.param, tmp_path, face_pipeline) as services,
        app_client(services, role=None) as client,
    ):
        yield client, services


def _login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_fresh_install_is_closed_except_for_the_first_registration(
    fresh: tuple[TestClient, Services],
) -> None:
    client, _ = fresh
    assert client.get("/api/v1/people").status_code == 401
    first = client.post("/api/v1/auth/register", json={"username": "Ada", "password": PASSWORD})
    assert first.status_code == 201, first.text
    assert first.json()["role"] == "admin" and "password" not in first.text
    second = client.post("/api/v1/auth/register", json={"username": "eve", "password": PASSWORD})
    assert second.status_code == 401
    admin = _login(client, "ada", PASSWORD)
    again = client.post(
        "/api/v1/auth/register", json={"username": "eve", "password": PASSWORD}, headers=admin
    )
    assert again.status_code == 403  # admins create users at /api/v1/users instead


def test_login_me_and_password_change(fresh: tuple[TestClient, Services]) -> None:
    client, _ = fresh
    client.post("/api/v1/auth/register", json={"username": "ada", "password": PASSWORD})
    wrong = client.post("/api/v1/auth/login", data={"username": "ada", "password": "nope nope!"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    headers = _login(client, "ada", PASSWORD)
    me = client.get("/api/v1/auth/me", headers=headers).json()
    assert (me["kind"], me["name"], me["role"], me["user"]["username"]) == (
        "user",
        "ada",
        "admin",
        "ada",
    )
    assert "manage_users" in me["permissions"]
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new long password"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401  # old token ended
    fresh_headers = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=fresh_headers).status_code == 200
    _login(client, "ada", "a new long password")


def test_admin_manages_users_and_keys(fresh: tuple[TestClient, Services]) -> None:
    client, services = fresh
    client.post("/api/v1/auth/register", json={"username": "ada", "password": PASSWORD})
    admin = _login(client, "ada", PASSWORD)
    created = client.post(
        "/api/v1/users",
        json={"username": "olga", "password": PASSWORD, "role": "operator"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    olga = created.json()
    operator = _login(client, "olga", PASSWORD)
    assert client.get("/api/v1/users", headers=operator).status_code == 403
    listed = client.get("/api/v1/users", headers=admin).json()
    assert [u["username"] for u in listed["items"]] == ["ada", "olga"] and listed["total"] == 2

    key = client.post(
        "/api/v1/api-keys",
        json={"name": "door", "role": "viewer", "expires_at": "2099-01-01T00:00:00Z"},
        headers=admin,
    )
    assert key.status_code == 201, key.text
    plain = key.json()["key"]
    viewer = {API_KEY_HEADER: plain}
    assert client.get("/api/v1/people", headers=viewer).status_code == 200
    assert client.post("/api/v1/people", json={"name": "x"}, headers=viewer).status_code == 403
    keys = client.get("/api/v1/api-keys", headers=admin).json()["items"]
    assert len(keys) == 1 and "key" not in keys[0] and keys[0]["last_used_at"] is not None
    assert keys[0]["prefix"] == plain[:12]
    revoked = client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/people", headers=viewer).status_code == 401

    demoted = client.patch(f"/api/v1/users/{olga['id']}", json={"role": "viewer"}, headers=admin)
    assert demoted.json()["role"] == "viewer"
    assert client.post("/api/v1/people", json={"name": "x"}, headers=operator).status_code == 403
    me = client.get("/api/v1/auth/me", headers=admin).json()
    last_admin = client.patch(f"/api/v1/users/{me['id']}", json={"role": "viewer"}, headers=admin)
    assert last_admin.status_code == 409
    assert client.delete(f"/api/v1/users/{olga['id']}", headers=admin).status_code == 200
    assert client.get("/api/v1/auth/me", headers=operator).status_code == 401

    with services.engine.connect() as conn:
        stored = "\n".join(
            repr(tuple(row))
            for table in ("users", "api_keys")
            for row in conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
        )
    assert PASSWORD not in stored and plain not in stored and plain[12:] not in stored


def test_api_key_answers_never_leak_the_hash(fresh: tuple[TestClient, Services]) -> None:
    client, _ = fresh
    client.post("/api/v1/auth/register", json={"username": "ada", "password": PASSWORD})
    admin = _login(client, "ada", PASSWORD)
    created = client.post("/api/v1/api-keys", json={"name": "k", "role": "admin"}, headers=admin)
    assert "hash" not in created.text
    me = client.get("/api/v1/auth/me", headers={API_KEY_HEADER: created.json()["key"]}).json()
    assert (me["kind"], me["name"], me["role"], me["user"]) == ("api_key", "k", "admin", None)

"""Every route in the OpenAPI document against every kind of caller.

Without credentials everything but the public routes answers 401; a viewer key gets 403 on
every mutating route; an operator key gets 403 on every admin route and through elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from facebank.api.security import API_KEY_HEADER
from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, api_key_for, app_client, running_services

PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/compat/login"),
    # /api/v1/auth/register is public only while open; here an admin exists, so it is closed.
}
# POSTs that only read: a photo goes in, nothing is stored.
READ_ONLY_POSTS = {
    "/api/v1/recognize",
    "/api/v1/verify",
    "/api/v1/detect",
    "/api/v1/embeddings",
    "/api/v1/auth/login",
    "/compat/login",
    "/compat/query",
    "/compat/query_top5",
}
ADMIN_ONLY = re.compile(
    r"^(/api/v1/(users|api-keys|audit)(/.*)?|/api/v1/export|/api/v1/index/(rebuild|reembed|calibration)|/metrics"
    r"|/health/detailed|/compat/reset_index)$"
)
# Refused to every key: closed registration, and password changes (keys have no password).
NOT_FOR_KEYS = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/password"),
    ("POST", "/compat/register"),
}
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
UNKNOWN_ID = "999999"

Route = tuple[str, str]


@pytest.fixture(params=BACKENDS)
def callers(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    with (
        running_services(request.param, tmp_path, face_pipeline) as services,
        app_client(services, role=None) as client,
    ):
        services.auth.accounts.create_user(
            system_principal("tests"), "root", "correct horse battery", Role.ADMIN
        )
        headers = {
            role.value: {API_KEY_HEADER: api_key_for(services, role, role.value)} for role in Role
        }
        yield client, headers


def _routes(client: TestClient) -> list[Route]:
    paths = client.get("/openapi.json").json()["paths"]
    found = [(method.upper(), path) for path, ops in paths.items() for method in ops]
    assert len(found) >= 30, found  # the document really lists the API
    return sorted(found)


def _call(client: TestClient, route: Route, headers: dict[str, str]) -> httpx.Response:
    method, template = route
    path = re.sub(r"\{[^}]+\}", UNKNOWN_ID, template)
    return client.request(method, path, headers=headers)


def test_without_credentials_only_public_routes_answer(
    callers: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, _ = callers
    wrong: dict[Route, int | str] = {}
    for route in _routes(client):
        response = _call(client, route, {})
        if route in PUBLIC:
            if response.status_code in (401, 403):
                wrong[route] = response.status_code
        elif response.status_code != 401 or response.json()["error"]["code"] != "unauthorized":
            wrong[route] = response.status_code
        elif response.headers.get("www-authenticate") != "Bearer":
            wrong[route] = "no WWW-Authenticate"
    assert wrong == {}


def test_bad_credentials_answer_401(
    callers: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, _ = callers
    for headers in (
        {API_KEY_HEADER: "fbk_" + "x" * 43},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": "Basic cm9vdDpwYXNz"},
    ):
        assert client.get("/api/v1/people", headers=headers).status_code == 401


def test_viewer_key_cannot_change_anything(
    callers: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = callers
    wrong = {}
    for route in _routes(client):
        method, path = route
        status = _call(client, route, headers["viewer"]).status_code
        refused = (
            (method in MUTATING and path not in READ_ONLY_POSTS)
            or ADMIN_ONLY.match(path) is not None
            or route in NOT_FOR_KEYS
        )
        if refused != (status == 403) or status == 401:
            wrong[route] = status
    assert wrong == {}


def test_operator_key_is_refused_admin_routes_only(
    callers: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = callers
    wrong = {}
    for route in _routes(client):
        status = _call(client, route, headers["operator"]).status_code
        refused = ADMIN_ONLY.match(route[1]) is not None or route in NOT_FOR_KEYS
        if refused != (status == 403) or status == 401:
            wrong[route] = status
    assert wrong == {}


def test_admin_key_reaches_everything(
    callers: tuple[TestClient, dict[str, dict[str, str]]],
) -> None:
    client, headers = callers
    wrong = {}
    for route in _routes(client):
        status = _call(client, route, headers["admin"]).status_code
        if status == 401 or (status == 403) != (route in NOT_FOR_KEYS):
            wrong[route] = status
    assert wrong == {}

"""The browser session cookie as a credential of the JSON API, and its CSRF rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from facebank.api.app import create_app
from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.errors import AuthenticationError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from facebank.services.web_sessions import CSRF_HEADER, SESSION_COOKIE, WebSignIn
from tests.api.conftest import api_key_for, running_services
from tests.auth.fakes import FakeClock

PASSWORD = "correct horse battery"


@pytest.fixture
def services(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[Services]:
    with running_services("sqlite", tmp_path, face_pipeline) as running:
        yield running


def signed_in(services: Services, name: str = "alice", role: Role = Role.OPERATOR) -> WebSignIn:
    services.auth.accounts.create_user(system_principal("tests"), name, PASSWORD, role)
    return services.auth.web_sessions.sign_in(name, PASSWORD, "127.0.0.1")


@pytest.fixture
def browser(services: Services) -> Iterator[tuple[TestClient, WebSignIn]]:
    session = signed_in(services)
    with TestClient(create_app(services=services)) as client:
        client.cookies.set(SESSION_COOKIE, session.session_id)
        yield client, session


def test_cookie_reads_without_csrf(browser: tuple[TestClient, WebSignIn]) -> None:
    client, _ = browser
    assert client.get("/api/v1/people").status_code == 200


def test_cookie_post_without_csrf_is_refused(browser: tuple[TestClient, WebSignIn]) -> None:
    client, _ = browser
    answer = client.post("/api/v1/people", json={"name": "Ann"})
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "csrf_failed"
    wrong = client.post("/api/v1/people", json={"name": "Ann"}, headers={CSRF_HEADER: "nope"})
    assert wrong.json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/people").json()["total"] == 0


def test_cookie_post_with_csrf_works(browser: tuple[TestClient, WebSignIn]) -> None:
    client, session = browser
    answer = client.post(
        "/api/v1/people", json={"name": "Ann"}, headers={CSRF_HEADER: session.csrf_token}
    )
    assert answer.status_code == 201, answer.text


def test_role_still_applies_to_cookie(services: Services) -> None:
    session = signed_in(services, "victor", Role.VIEWER)
    with TestClient(create_app(services=services)) as client:
        client.cookies.set(SESSION_COOKIE, session.session_id)
        answer = client.post(
            "/api/v1/people", json={"name": "Ann"}, headers={CSRF_HEADER: session.csrf_token}
        )
    assert answer.json()["error"]["code"] == "forbidden"


def test_headers_win_over_cookie_and_need_no_csrf(
    browser: tuple[TestClient, WebSignIn], services: Services
) -> None:
    client, _ = browser
    key = api_key_for(services, Role.OPERATOR)
    answer = client.post("/api/v1/people", json={"name": "Ann"}, headers={"X-API-Key": key})
    assert answer.status_code == 201


def test_sign_out_and_password_change_end_the_session(services: Services) -> None:
    first = signed_in(services)
    second = services.auth.web_sessions.sign_in("alice", PASSWORD, "127.0.0.1")
    principal = services.auth.web_sessions.resolve(first.session_id).principal
    services.auth.web_sessions.sign_out(principal, first.session_id)
    with TestClient(create_app(services=services)) as client:
        client.cookies.set(SESSION_COOKIE, first.session_id)
        assert client.get("/api/v1/people").status_code == 401
        client.cookies.set(SESSION_COOKIE, second.session_id)
        assert client.get("/api/v1/people").status_code == 200
        services.auth.accounts.change_password(principal, PASSWORD, PASSWORD + " new")
        assert client.get("/api/v1/people").status_code == 401


def _statements(services: Services) -> list[str]:
    seen: list[str] = []
    event.listen(services.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_a_known_session_costs_no_database_read(
    browser: tuple[TestClient, WebSignIn], services: Services
) -> None:
    client, _ = browser
    client.get("/api/v1/people")  # fills the session and user caches
    seen = _statements(services)
    client.get("/api/v1/people")
    assert not any("web_sessions" in sql or "FROM users" in sql for sql in seen), seen


def test_sign_out_and_disable_end_a_cached_session_at_once(services: Services) -> None:
    first, second = signed_in(services, "ann"), signed_in(services, "bob")
    web = services.auth.web_sessions
    web.resolve(first.session_id), web.resolve(second.session_id)  # cached now
    web.sign_out(first.principal, first.session_id)
    with pytest.raises(AuthenticationError):
        web.resolve(first.session_id)
    assert second.principal.id is not None
    services.auth.accounts.update_user(
        system_principal("tests"), second.principal.id, is_active=False
    )
    with pytest.raises(AuthenticationError):
        web.resolve(second.session_id)


def test_expired_sessions_are_refused_then_swept(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    clock = FakeClock(datetime.now(UTC))
    with running_services("sqlite", tmp_path, face_pipeline, clock=clock) as services:
        old = signed_in(services, "ann")
        clock.advance(services.settings.web_session_ttl_s + 1)
        fresh = signed_in(services, "bob")
        web = services.auth.web_sessions
        with pytest.raises(AuthenticationError):
            web.resolve(old.session_id)
        assert web.sweep_expired() == 1
        assert web.resolve(fresh.session_id).principal.name == "bob"
        assert web.sweep_expired() == 0

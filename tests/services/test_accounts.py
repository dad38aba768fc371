"""Accounts on SQLite, MariaDB and PostgreSQL: registration, admins, passwords, lockout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from facebank.auth.principal import system_principal
from facebank.auth.roles import Role
from facebank.errors import (
    AuthenticationError,
    ConflictError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationFailedError,
)
from facebank.services.auth_setup import AuthServices
from facebank.store.audit import AuditFilter
from tests.auth.fakes import FakeClock
from tests.auth.harness import BACKENDS, auth_stack

PASSWORD = "correct horse battery"
ROOT = system_principal("tests")


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def auth(kind: str, tmp_path: Path, clock: FakeClock) -> Iterator[AuthServices]:
    with auth_stack(kind, tmp_path, clock) as (services, _):
        yield services


def test_first_user_is_admin_then_registration_closes(auth: AuthServices) -> None:
    accounts = auth.accounts
    assert accounts.registration_open() and not accounts.has_admin()
    first = accounts.register("Ada", PASSWORD)
    assert (first.username, first.role) == ("ada", "admin")
    assert not accounts.registration_open()
    with pytest.raises(PermissionDeniedError):
        accounts.register("grace", PASSWORD)


def test_open_registration_makes_viewers(kind: str, tmp_path: Path, clock: FakeClock) -> None:
    with auth_stack(kind, tmp_path, clock, open_registration=True) as (auth, _):
        assert auth.accounts.register("ada", PASSWORD).role == "admin"
        assert auth.accounts.register("grace", PASSWORD).role == "viewer"


def test_user_names_are_unique_without_case(auth: AuthServices) -> None:
    auth.accounts.create_user(ROOT, "ada", PASSWORD, Role.VIEWER)
    with pytest.raises(ConflictError):
        auth.accounts.create_user(ROOT, "ADA", PASSWORD, Role.OPERATOR)


def test_concurrent_first_registrations_make_exactly_one_admin(auth: AuthServices) -> None:
    roles: list[str] = []
    refused: list[Exception] = []
    barrier = threading.Barrier(4)

    def register(name: str) -> None:
        barrier.wait()
        try:
            roles.append(auth.accounts.register(name, PASSWORD).role)
        except PermissionDeniedError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=register, args=(f"user{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert roles == ["admin"] and len(refused) == 3


def test_the_last_admin_stays(auth: AuthServices) -> None:
    admin = auth.accounts.register("ada", PASSWORD)
    for change in ({"role": Role.VIEWER}, {"is_active": False}):
        with pytest.raises(ConflictError):
            auth.accounts.update_user(ROOT, admin.id, **change)
    with pytest.raises(ConflictError):
        auth.accounts.delete_user(ROOT, admin.id)
    second = auth.accounts.create_user(ROOT, "grace", PASSWORD, Role.ADMIN)
    assert auth.accounts.update_user(ROOT, admin.id, role=Role.VIEWER).role == "viewer"
    with pytest.raises(ConflictError):
        auth.accounts.delete_user(ROOT, second.id)


def test_login_issues_a_token_that_authenticates(auth: AuthServices) -> None:
    auth.accounts.register("ada", PASSWORD)
    result = auth.accounts.login("Ada", PASSWORD, "10.0.0.1")
    principal = auth.authenticator.authenticate_token(result.token.token)
    assert (principal.name, principal.role) == ("ada", Role.ADMIN)
    assert auth.accounts.get_user(result.user.id).last_login_at is not None


def test_unknown_user_and_wrong_password_look_the_same(auth: AuthServices) -> None:
    auth.accounts.register("ada", PASSWORD)
    with pytest.raises(AuthenticationError) as wrong:
        auth.accounts.login("ada", "wrong password!", None)
    with pytest.raises(AuthenticationError) as unknown:
        auth.accounts.login("nobody", PASSWORD, None)
    with pytest.raises(AuthenticationError) as invalid_name:
        auth.accounts.login("not a valid name", PASSWORD, None)
    assert wrong.value.message == unknown.value.message == invalid_name.value.message


def test_password_change_ends_older_tokens(auth: AuthServices, clock: FakeClock) -> None:
    auth.accounts.register("ada", PASSWORD)
    old = auth.accounts.login("ada", PASSWORD, None).token.token
    principal = auth.authenticator.authenticate_token(old)
    with pytest.raises(AuthenticationError):
        auth.accounts.change_password(principal, "not my password", "another long password")
    with pytest.raises(ValidationFailedError):
        auth.accounts.change_password(principal, PASSWORD, "short")
    fresh = auth.accounts.change_password(principal, PASSWORD, "another long password")
    with pytest.raises(AuthenticationError):
        auth.authenticator.authenticate_token(old)
    assert auth.authenticator.authenticate_token(fresh.token).name == "ada"
    with pytest.raises(AuthenticationError):
        auth.accounts.login("ada", PASSWORD, None)
    auth.accounts.login("ada", "another long password", None)


def test_tokens_expire_and_deactivation_ends_them(auth: AuthServices, clock: FakeClock) -> None:
    auth.accounts.register("ada", PASSWORD)
    grace = auth.accounts.create_user(ROOT, "grace", PASSWORD, Role.OPERATOR)
    token = auth.accounts.login("grace", PASSWORD, None).token.token
    assert auth.authenticator.authenticate_token(token).role is Role.OPERATOR
    clock.advance(3600)
    with pytest.raises(AuthenticationError):
        auth.authenticator.authenticate_token(token)
    token = auth.accounts.login("grace", PASSWORD, None).token.token
    auth.accounts.update_user(ROOT, grace.id, is_active=False)
    with pytest.raises(AuthenticationError):
        auth.authenticator.authenticate_token(token)
    with pytest.raises(AuthenticationError):
        auth.accounts.login("grace", PASSWORD, None)


def test_role_changes_apply_to_existing_tokens(auth: AuthServices) -> None:
    auth.accounts.register("ada", PASSWORD)
    grace = auth.accounts.create_user(ROOT, "grace", PASSWORD, Role.VIEWER)
    token = auth.accounts.login("grace", PASSWORD, None).token.token
    assert auth.authenticator.authenticate_token(token).role is Role.VIEWER
    auth.accounts.update_user(ROOT, grace.id, role=Role.OPERATOR)
    assert auth.authenticator.authenticate_token(token).role is Role.OPERATOR


def test_user_lockout_backs_off_and_passes(auth: AuthServices, clock: FakeClock) -> None:
    auth.accounts.register("ada", PASSWORD)
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            auth.accounts.login("ada", "wrong password!", "10.0.0.1")
    with pytest.raises(RateLimitedError) as locked:
        auth.accounts.login("ada", PASSWORD, "10.0.0.2")  # another address: the name is locked
    assert locked.value.retry_after_s == 30
    clock.advance(30)
    with pytest.raises(AuthenticationError):
        auth.accounts.login("ada", "wrong password!", "10.0.0.1")
    with pytest.raises(RateLimitedError) as longer:
        auth.accounts.login("ada", PASSWORD, "10.0.0.1")
    assert longer.value.retry_after_s == 60  # doubled
    clock.advance(60)
    auth.accounts.login("ada", PASSWORD, "10.0.0.1")
    # A success clears the name's count: five more tries before the next lock.
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            auth.accounts.login("ada", "wrong password!", "10.0.0.3")
    auth.accounts.login("ada", PASSWORD, "10.0.0.3")


def test_address_lockout_stops_spraying_many_names(auth: AuthServices, clock: FakeClock) -> None:
    auth.accounts.register("ada", PASSWORD)
    for i in range(20):
        with pytest.raises(AuthenticationError):
            auth.accounts.login(f"guess{i}", "password123!", "203.0.113.9")
    with pytest.raises(RateLimitedError):
        auth.accounts.login("ada", PASSWORD, "203.0.113.9")
    auth.accounts.login("ada", PASSWORD, "198.51.100.1")  # other addresses are unaffected
    clock.advance(30)
    auth.accounts.login("ada", PASSWORD, "203.0.113.9")


def test_every_account_change_is_audited(auth: AuthServices) -> None:
    ada = auth.accounts.register("ada", PASSWORD)
    grace = auth.accounts.create_user(ROOT, "grace", PASSWORD, Role.VIEWER)
    auth.accounts.update_user(ROOT, grace.id, role=Role.OPERATOR, password="a new long password")
    auth.accounts.delete_user(ROOT, grace.id)
    with pytest.raises(ConflictError):
        auth.accounts.delete_user(ROOT, ada.id)  # refused: leaves no entry
    entries = auth.audit.page(AuditFilter(), 0, 50).items
    assert [(e.actor_kind, e.action, e.target_kind, e.target_id) for e in entries] == [
        ("system", "delete", "user", str(grace.id)),
        ("system", "update", "user", str(grace.id)),
        ("system", "create", "user", str(grace.id)),
        ("user", "register", "user", str(ada.id)),
    ]
    assert entries[1].details == {"role": "operator", "password_reset": True}
    assert entries[3].actor_name == "ada"


def test_quiet_throttle_rows_are_purged(auth: AuthServices, clock: FakeClock) -> None:
    for i in range(3):
        with pytest.raises(AuthenticationError):
            auth.accounts.login(f"guess{i}", "password123!", f"203.0.113.{i}")
    clock.advance(2 * 3600)  # past the longest lock plus the forgetting period
    assert auth.login_guard.purge() == 6  # a name and an address row per attempt

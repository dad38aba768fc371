"""API keys on SQLite, MariaDB and PostgreSQL: role, expiry, revocation, throttled last-use."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import Engine, event, text

from facebank.api.auth_schemas import ApiKeyCreate
from facebank.auth.principal import PrincipalKind, system_principal
from facebank.auth.roles import Role
from facebank.errors import AuthenticationError, ValidationFailedError
from facebank.services.auth_setup import AuthServices
from facebank.services.authenticator import Credentials
from facebank.store.audit import AuditFilter
from facebank.store.limits import API_KEY_NAME_MAX
from tests.auth.fakes import FakeClock
from tests.auth.harness import BACKENDS, auth_stack

ROOT = system_principal("tests")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=BACKENDS)
def stack(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> Iterator[tuple[AuthServices, Engine]]:
    with auth_stack(str(request.param), tmp_path, clock) as pair:
        yield pair


def test_a_key_authenticates_with_its_role(stack: tuple[AuthServices, Engine]) -> None:
    auth, _ = stack
    created = auth.api_keys.create(ROOT, "kiosk", Role.OPERATOR)
    principal = auth.authenticator.authenticate(Credentials(api_key=created.key))
    assert principal.kind is PrincipalKind.API_KEY
    assert (principal.id, principal.name, principal.role) == (
        created.record.id,
        "kiosk",
        Role.OPERATOR,
    )
    assert created.record.prefix == created.key[:12]
    assert created.record.created_by is None  # made by the system, not a user


def test_wrong_missing_or_ambiguous_credentials_are_refused(
    stack: tuple[AuthServices, Engine],
) -> None:
    auth, _ = stack
    key = auth.api_keys.create(ROOT, "kiosk", Role.VIEWER).key
    for credentials in (
        Credentials(),
        Credentials(api_key=key[:-1] + ("A" if key[-1] != "A" else "B")),
        Credentials(api_key="not-a-key"),
        Credentials(bearer="not-a-token"),
        Credentials(bearer="x", api_key=key),
    ):
        with pytest.raises(AuthenticationError):
            auth.authenticator.authenticate(credentials)


def test_revocation_applies_at_once(stack: tuple[AuthServices, Engine]) -> None:
    auth, _ = stack
    created = auth.api_keys.create(ROOT, "kiosk", Role.VIEWER)
    auth.authenticator.authenticate_key(created.key)  # now cached
    revoked = auth.api_keys.revoke(ROOT, created.record.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError):
        auth.authenticator.authenticate_key(created.key)
    assert auth.api_keys.revoke(ROOT, created.record.id).revoked_at == revoked.revoked_at
    assert auth.api_keys.list(0, 10).total == 0
    assert auth.api_keys.list(0, 10, include_revoked=True).items[0].id == created.record.id


def test_keys_expire(stack: tuple[AuthServices, Engine], clock: FakeClock) -> None:
    auth, _ = stack
    with pytest.raises(ValidationFailedError):
        auth.api_keys.create(ROOT, "old", Role.VIEWER, expires_at=clock() - timedelta(seconds=1))
    created = auth.api_keys.create(
        ROOT, "temp", Role.VIEWER, expires_at=clock() + timedelta(hours=1)
    )
    auth.authenticator.authenticate_key(created.key)
    clock.advance(3600)
    with pytest.raises(AuthenticationError):
        auth.authenticator.authenticate_key(created.key)


def test_last_use_is_written_at_most_once_a_minute(
    stack: tuple[AuthServices, Engine], clock: FakeClock
) -> None:
    auth, engine = stack
    created = auth.api_keys.create(ROOT, "kiosk", Role.VIEWER)
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        first = clock()
        for _ in range(50):
            auth.authenticator.authenticate_key(created.key)
            clock.advance(1)  # 50 requests over 50 s
        assert len(writes) == 1
        assert auth.api_keys.get(created.record.id).last_used_at == first
        clock.advance(10)
        auth.authenticator.authenticate_key(created.key)
        assert len(writes) == 2
        assert auth.api_keys.get(created.record.id).last_used_at == clock()
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_key_changes_are_audited(stack: tuple[AuthServices, Engine]) -> None:
    auth, _ = stack
    admin = auth.accounts.register("ada", "correct horse battery")
    actor = auth.authenticator.authenticate_token(
        auth.accounts.login("ada", "correct horse battery", None).token.token
    )
    created = auth.api_keys.create(actor, "kiosk", Role.VIEWER)
    auth.api_keys.revoke(actor, created.record.id)
    assert created.record.created_by == admin.id
    entries = auth.audit.page(AuditFilter(target_kind="api_key"), 0, 10).items
    assert [(e.action, e.actor_kind, e.actor_id) for e in entries] == [
        ("revoke", "user", admin.id),
        ("create", "user", admin.id),
    ]
    assert entries[1].details == {"name": "kiosk", "role": "viewer"}
    assert created.key not in str(entries)


def test_the_database_holds_no_plain_secret(stack: tuple[AuthServices, Engine]) -> None:
    auth, engine = stack
    password = "a very memorable passphrase"
    auth.accounts.register("ada", password)
    token = auth.accounts.login("ada", password, "10.0.0.1").token.token
    key = auth.api_keys.create(ROOT, "kiosk", Role.ADMIN).key
    with engine.connect() as conn:
        dump = "\n".join(
            repr(tuple(row))
            for table in ("users", "api_keys", "audit_log", "login_throttle")
            for row in conn.execute(text(f"SELECT * FROM {table}"))  # noqa: S608 - fixed names
        )
    assert "ada" in dump  # the dump is real
    for secret in (password, key, key[12:], token):
        assert secret not in dump
    assert "$argon2id$" in dump


def test_cached_check_needs_no_database_and_defers_otherwise(
    stack: tuple[AuthServices, Engine], clock: FakeClock
) -> None:
    """authenticate_cached answers from memory (the API checks it on the event loop) and
    says None whenever the database has to be read or written."""
    auth, engine = stack
    created = auth.api_keys.create(ROOT, "kiosk", Role.VIEWER)
    credentials = Credentials(api_key=created.key)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert auth.authenticator.authenticate_cached(credentials) is None  # not cached yet
        assert statements == []
        auth.authenticator.authenticate(credentials)  # reads the key, writes its last use
        statements.clear()
        principal = auth.authenticator.authenticate_cached(credentials)
        assert principal is not None and principal.name == "kiosk"
        with pytest.raises(AuthenticationError):  # refused without the database
            auth.authenticator.authenticate_cached(Credentials(api_key="not-a-key"))
        assert statements == []
        clock.advance(120)  # a last-use write is due: that is the full path's job
        assert auth.authenticator.authenticate_cached(credentials) is None
        assert statements == []
    finally:
        event.remove(engine, "before_cursor_execute", count)
    token = auth.accounts.login(
        auth.accounts.register("ada", "correct horse battery").username,
        "correct horse battery",
        None,
    ).token.token
    auth.authenticator.forget()
    assert auth.authenticator.authenticate_cached(Credentials(bearer=token)) is None
    auth.authenticator.authenticate_token(token)
    user = auth.authenticator.authenticate_cached(Credentials(bearer=token))
    assert user is not None and user.name == "ada"


@pytest.mark.parametrize("length", [API_KEY_NAME_MAX, API_KEY_NAME_MAX + 1])
def test_the_api_and_the_service_agree_on_the_key_name_limit(
    stack: tuple[AuthServices, Engine], length: int
) -> None:
    auth, _ = stack
    name = "k" * length
    try:
        ApiKeyCreate(name=name, role=Role.VIEWER)
        api = True
    except PydanticValidationError:
        api = False
    try:
        auth.api_keys.create(ROOT, name, Role.VIEWER)
        service = True
    except ValidationFailedError:
        service = False
    assert api == service == (length <= API_KEY_NAME_MAX)

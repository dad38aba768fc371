"""Users, API keys and login throttling: field limits, records, row mapping and the
repositories. Every change to a user or key is audited in the transaction of the change.

Roles are plain strings here: the store keeps them, the auth package gives them meaning.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Annotated

from pydantic import Field
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.auth.lockout import ThrottleState
from facebank.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
)
from facebank.store.audit import AuditFor, audited
from facebank.store.coltypes import utcnow
from facebank.store.db import database_kind
from facebank.store.limits import API_KEY_NAME_MAX, THROTTLE_KEY_MAX, USERNAME_MAX
from facebank.store.paging import Page
from facebank.store.queries import fetch_page
from facebank.store.shapes import AnswerRecord, record_from
from facebank.store.tables import ApiKey, LoginThrottle, User
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id

# --- field types and limits ------------------------------------------------------------


# What a request may send; auth.passwords.normalize_username then applies the finer rules.
Username = Annotated[str, Field(min_length=1, max_length=USERNAME_MAX)]
ApiKeyName = Annotated[str, Field(min_length=1, max_length=API_KEY_NAME_MAX)]

# --- records and row mapping -----------------------------------------------------------


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    role: str
    is_active: bool
    token_version: int
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    # Present for verification only; never serialised by the API.
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class UserChanges:
    """What an admin (or the user, for the password) changes; None leaves a field alone."""

    role: str | None = None
    is_active: bool | None = None
    password_hash: str | None = None


class ApiKeyRecord(AnswerRecord):
    id: int
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    role: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="updated at most once a minute")
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class NewApiKey:
    name: str
    prefix: str
    key_hash: str
    role: str
    created_by: int | None
    expires_at: datetime | None


def user_record(row: User) -> UserRecord:
    return record_from(UserRecord, row)


def api_key_record(row: ApiKey) -> ApiKeyRecord:
    return record_from(ApiKeyRecord, row)


def _state(row: LoginThrottle) -> ThrottleState:
    return record_from(ThrottleState, row)


# --- users: create (the first one as admin), read, page, change, delete ------------------
# (never the last active admin)

UserAuditFor = AuditFor[UserRecord]


class UsersRepository:
    def __init__(self, session_factory: SessionFactory, admin_role: str) -> None:
        self._sessions = session_factory
        self._admin = admin_role

    def register(
        self, username: str, password_hash: str, open_role: str | None, audit: UserAuditFor
    ) -> UserRecord:
        """Self-registration: the first user becomes admin; later ones get `open_role`, or
        are refused when it is None (registration closed once an admin exists)."""

        def work(session: Session) -> UserRecord:
            _lock_users(session)
            if _active_admins(session, self._admin) == 0:
                role = self._admin
            elif open_role is not None:
                role = open_role
            else:
                raise PermissionDeniedError(
                    "registration is closed: an admin creates accounts (POST /api/v1/users)"
                )
            return _insert(session, username, password_hash, role, audit)

        return self._write_new(work, username)

    def create(
        self, username: str, password_hash: str, role: str, audit: UserAuditFor
    ) -> UserRecord:
        return self._write_new(
            lambda session: _insert(session, username, password_hash, role, audit), username
        )

    def get(self, user_id: int) -> UserRecord:
        return run_read(self._sessions, lambda session: user_record(_get(session, user_id)))

    def find(self, username: str) -> UserRecord | None:
        def work(session: Session) -> UserRecord | None:
            row = session.scalars(select(User).where(User.username == username)).first()
            return None if row is None else user_record(row)

        return run_read(self._sessions, work)

    def page(self, offset: int, limit: int) -> Page[UserRecord]:
        query = select(User).order_by(User.id)
        return run_read(self._sessions, lambda s: fetch_page(s, query, offset, limit, user_record))

    def has_active_admin(self) -> bool:
        return run_read(self._sessions, lambda session: _active_admins(session, self._admin) > 0)

    def update(self, user_id: int, changes: UserChanges, audit: UserAuditFor) -> UserRecord:
        """Apply `changes`. A new password or deactivation bumps the token version, which
        invalidates every token issued before."""

        def work(session: Session) -> UserRecord:
            _lock_users(session)
            row = _get(session, user_id, lock=True)
            was_admin = row.role == self._admin and row.is_active
            if changes.role is not None:
                row.role = changes.role
            if changes.is_active is not None and changes.is_active != row.is_active:
                row.is_active = changes.is_active
                row.token_version += 1
            if changes.password_hash is not None:
                row.password_hash = changes.password_hash
                row.token_version += 1
            session.flush()
            if was_admin and _active_admins(session, self._admin) == 0:
                raise ConflictError("this would leave no active admin", user_id=user_id)
            row.updated_at = utcnow()
            return audited(session, user_record(row), audit, row.updated_at)

        return run_write(self._sessions, work)

    def delete(self, user_id: int, audit: UserAuditFor) -> UserRecord:
        def work(session: Session) -> UserRecord:
            _lock_users(session)
            row = _get(session, user_id, lock=True)
            record = user_record(row)
            if (
                row.role == self._admin
                and row.is_active
                and _active_admins(session, self._admin) <= 1
            ):
                raise ConflictError("the last active admin cannot be deleted", user_id=user_id)
            session.delete(row)
            return audited(session, record, audit, utcnow())

        return run_write(self._sessions, work)

    def record_login(self, user_id: int, new_hash: str | None) -> None:
        """Stamp the login; store an upgraded hash when the cost parameters were raised."""

        def work(session: Session) -> None:
            row = session.get(User, user_id)
            if row is None:
                return
            row.last_login_at = utcnow()
            if new_hash is not None:
                row.password_hash = new_hash

        run_write(self._sessions, work)

    def _write_new(self, work: Callable[[Session], UserRecord], username: str) -> UserRecord:
        try:
            return run_write(self._sessions, work)
        except IntegrityError as exc:
            # A concurrent insert of the same name passed the pre-check and lost at the index.
            if "username" in str(exc.orig):
                raise _taken(username) from exc
            raise


def _insert(
    session: Session, username: str, password_hash: str, role: str, audit: UserAuditFor
) -> UserRecord:
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise _taken(username)
    now = utcnow()
    row = User(
        username=username,
        password_hash=password_hash,
        role=role,
        is_active=True,
        token_version=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return audited(session, user_record(row), audit, now)


def _taken(username: str) -> ConflictError:
    return ConflictError(f"user name {username!r} is taken", username=username)


def _get(session: Session, user_id: int, lock: bool = False) -> User:
    row = session.get(User, user_id, with_for_update=lock) if is_storable_id(user_id) else None
    if row is None:
        raise NotFoundError(f"user {user_id} not found", user_id=user_id)
    return row


def _active_admins(session: Session, admin_role: str) -> int:
    query = select(func.count(User.id)).where(User.role == admin_role, User.is_active.is_(True))
    return int(session.scalar(query) or 0)


def _lock_users(session: Session) -> None:
    """Serialise admin-count-dependent writes. SQLite's BEGIN IMMEDIATE (see tx.run_write)
    already excludes other writers."""
    kind = database_kind(session.get_bind().engine)
    if kind == "postgresql":
        # Conflicts with itself and with row writers; plain reads still go through.
        session.execute(text("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE"))
    elif kind == "mysql":
        # Locks every row and, through next-key locks, the gaps where new rows would go; a
        # racing transaction deadlocks and is retried by run_write.
        session.execute(select(User.id).with_for_update())


# --- API keys: create, look up by keyed hash, list, revoke, stamp their last use --------

KeyAuditFor = AuditFor[ApiKeyRecord]


class ApiKeysRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def create(self, key: NewApiKey, audit: KeyAuditFor) -> ApiKeyRecord:
        def work(session: Session) -> ApiKeyRecord:
            now = utcnow()
            row = ApiKey(**asdict(key), created_at=now)  # NewApiKey: the columns a caller sets
            session.add(row)
            session.flush()
            return audited(session, api_key_record(row), audit, now)

        return run_write(self._sessions, work)

    def find_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        def work(session: Session) -> ApiKeyRecord | None:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
            return None if row is None else api_key_record(row)

        return run_read(self._sessions, work)

    def get(self, key_id: int) -> ApiKeyRecord:
        return run_read(self._sessions, lambda session: api_key_record(_get_key(session, key_id)))

    def page(self, offset: int, limit: int, include_revoked: bool) -> Page[ApiKeyRecord]:
        conditions = [] if include_revoked else [ApiKey.revoked_at.is_(None)]

        query = select(ApiKey).where(*conditions).order_by(ApiKey.id)
        return run_read(
            self._sessions, lambda s: fetch_page(s, query, offset, limit, api_key_record)
        )

    def revoke(self, key_id: int, audit: KeyAuditFor) -> ApiKeyRecord:
        """Idempotent: revoking a revoked key keeps the first revocation time."""

        def work(session: Session) -> ApiKeyRecord:
            row = _get_key(session, key_id, lock=True)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                session.flush()
                return audited(session, api_key_record(row), audit, row.revoked_at)
            return api_key_record(row)

        return run_write(self._sessions, work)

    def touch(self, key_id: int, used_at: datetime) -> None:
        """Record use. Never moves the time backwards (workers race with each other)."""

        def work(session: Session) -> None:
            session.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < used_at))
                .values(last_used_at=used_at)
            )

        run_write(self._sessions, work)


def _get_key(session: Session, key_id: int, lock: bool = False) -> ApiKey:
    row = session.get(ApiKey, key_id, with_for_update=lock) if is_storable_id(key_id) else None
    if row is None:
        raise NotFoundError(f"API key {key_id} not found", key_id=key_id)
    return row


# --- login throttle: failed-login counters per user name and per client address ---------
# (shared by all workers)

# Two racing first failures both insert; the loser simply counts again on top.
INSERT_ATTEMPTS = 3

# (key, current state or None) -> the state to store
NextState = Callable[[str, ThrottleState | None], ThrottleState]


class LoginThrottleRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def states(self, keys: Sequence[str]) -> dict[str, ThrottleState]:
        wanted = [k[:THROTTLE_KEY_MAX] for k in keys]

        def work(session: Session) -> dict[str, ThrottleState]:
            rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(wanted)))
            return {row.key: _state(row) for row in rows}

        return run_read(self._sessions, work)

    def update(self, keys: Sequence[str], next_state: NextState) -> dict[str, ThrottleState]:
        """Replace each key's state by `next_state(key, current)` in one transaction."""
        wanted = sorted({k[:THROTTLE_KEY_MAX] for k in keys})  # one lock order: no deadlocks

        def work(session: Session) -> dict[str, ThrottleState]:
            result = {}
            for key in wanted:
                row = session.get(LoginThrottle, key, with_for_update=True)
                new = next_state(key, None if row is None else _state(row))
                if row is None:
                    row = LoginThrottle(key=key)
                    session.add(row)
                row.failures = new.failures
                row.last_failure_at = new.last_failure_at
                row.locked_until = new.locked_until
                session.flush()
                result[key] = new
            return result

        for attempt in range(INSERT_ATTEMPTS):
            try:
                return run_write(self._sessions, work)
            except IntegrityError:
                if attempt == INSERT_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def clear(self, key: str) -> None:
        run_write(
            self._sessions,
            lambda session: session.execute(
                delete(LoginThrottle).where(LoginThrottle.key == key[:THROTTLE_KEY_MAX])
            ),
        )

    def purge_before(self, cutoff: datetime) -> int:
        """Drop rows idle since `cutoff` (keeps the table from growing with old addresses)."""

        def work(session: Session) -> int:
            result = session.execute(
                delete(LoginThrottle).where(
                    LoginThrottle.last_failure_at < cutoff,
                    (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < cutoff),
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

        return run_write(self._sessions, work)

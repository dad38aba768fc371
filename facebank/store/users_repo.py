"""Users: create (the first one as admin), read, page, change, delete — never the last admin.

Writes that depend on how many admins exist lock the users table first, so two concurrent
"first" registrations cannot both become admin and two admins cannot demote each other into
having none.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, NotFoundError, PermissionDeniedError
from facebank.store.account_records import NewAuditEntry, UserChanges, UserRecord, user_record
from facebank.store.audit_repo import add_entry
from facebank.store.coltypes import utcnow
from facebank.store.db import database_kind
from facebank.store.records import Page
from facebank.store.tables import User
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id

# Builds the audit entry from the stored result (whose id exists only after the insert).
AuditFor = Callable[[UserRecord], NewAuditEntry]


class UsersRepository:
    def __init__(self, session_factory: SessionFactory, admin_role: str) -> None:
        self._sessions = session_factory
        self._admin = admin_role

    def register(
        self, username: str, password_hash: str, open_role: str | None, audit: AuditFor
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

    def create(self, username: str, password_hash: str, role: str, audit: AuditFor) -> UserRecord:
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
        def work(session: Session) -> Page[UserRecord]:
            total = session.scalar(select(func.count(User.id))) or 0
            rows = session.scalars(select(User).order_by(User.id).offset(offset).limit(limit))
            return Page([user_record(r) for r in rows], int(total), offset, limit)

        return run_read(self._sessions, work)

    def has_active_admin(self) -> bool:
        return run_read(self._sessions, lambda session: _active_admins(session, self._admin) > 0)

    def update(self, user_id: int, changes: UserChanges, audit: AuditFor) -> UserRecord:
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
            record = user_record(row)
            add_entry(session, audit(record), row.updated_at)
            return record

        return run_write(self._sessions, work)

    def delete(self, user_id: int, audit: AuditFor) -> UserRecord:
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
            add_entry(session, audit(record), utcnow())
            return record

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
    session: Session, username: str, password_hash: str, role: str, audit: AuditFor
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
    record = user_record(row)
    add_entry(session, audit(record), now)
    return record


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

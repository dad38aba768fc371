"""User accounts: register, create, log in (throttled), change passwords, administer users.

Password hashing (tens of milliseconds) happens before any transaction opens, so the slow
part never holds a lock. Every change is audited in the same transaction as the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from facebank.auth.clock import Clock
from facebank.auth.passwords import PasswordHasher, check_password, normalize_username
from facebank.auth.principal import Principal, PrincipalKind, user_principal
from facebank.auth.roles import Role, parse_role
from facebank.auth.tokens import IssuedToken, TokenSigner
from facebank.errors import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from facebank.services.audit import Action, Target, audit_entry
from facebank.services.login_guard import LoginGuard
from facebank.store.accounts import UserChanges, UserRecord, UsersRepository
from facebank.store.limits import USERNAME_MAX
from facebank.store.paging import Page

log = logging.getLogger(__name__)

LOGIN_FAILED = "wrong user name or password"


@dataclass(frozen=True)
class LoginResult:
    user: UserRecord
    token: IssuedToken


class AccountService:
    def __init__(
        self,
        users: UsersRepository,
        hasher: PasswordHasher,
        signer: TokenSigner,
        guard: LoginGuard,
        clock: Clock,
        open_registration: bool,
        on_change: Callable[[], None],
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._signer = signer
        self._guard = guard
        self._clock = clock
        self._open_registration = open_registration
        # Tells the authenticator to drop what it cached about users.
        self._on_change = on_change

    # --- self-service ----------------------------------------------------------------------

    def registration_open(self) -> bool:
        return self._open_registration or not self.has_admin()

    def has_admin(self) -> bool:
        return self._users.has_active_admin()

    def register(self, username: str, password: str) -> UserRecord:
        """The first user becomes admin; later ones are viewers while registration is open."""
        name = normalize_username(username)
        check_password(password, name)
        if not self.registration_open():  # cheap refusal before hashing; re-checked below
            raise _closed()
        password_hash = self._hasher.hash(password)
        open_role = Role.VIEWER.value if self._open_registration else None
        user = self._users.register(
            name,
            password_hash,
            open_role,
            lambda rec: audit_entry(
                principal_of(rec), Action.REGISTER, Target.USER, rec.id, {"role": rec.role}
            ),
        )
        log.info("user %r registered as %s", user.username, user.role)
        return user

    def login(self, username: str, password: str, address: str | None) -> LoginResult:
        throttle_name = username.strip().lower()[:USERNAME_MAX]  # clipped, not refused
        self._guard.check(throttle_name, address)
        user = self._find(username)
        stored = user.password_hash if user is not None and user.is_active else None
        # Verified even without a usable account (against a dummy hash, never matching) so
        # the answer takes as long either way and does not tell which names exist.
        ok = self._hasher.verify(stored, password)
        if not ok or user is None:
            self._guard.failed(throttle_name, address)
            log.info("failed login for %r from %s", throttle_name, address)
            raise AuthenticationError(LOGIN_FAILED)
        self._guard.succeeded(throttle_name)
        rehashed = (
            self._hasher.hash(password) if self._hasher.needs_rehash(user.password_hash) else None
        )
        self._users.record_login(user.id, rehashed)
        return LoginResult(user, self._signer.issue(user.id, user.token_version, self._clock()))

    def me(self, principal: Principal) -> UserRecord:
        return self._users.get(_user_id(principal))

    def change_password(self, principal: Principal, current: str, new: str) -> IssuedToken:
        """Needs the current password; ends every other session (older tokens stop working)
        and returns a fresh token for this one."""
        user = self._users.get(_user_id(principal))
        if not self._hasher.verify(user.password_hash, current):
            raise AuthenticationError("the current password is wrong")
        check_password(new, user.username)
        changed = self._users.update(
            user.id,
            UserChanges(password_hash=self._hasher.hash(new)),
            lambda rec: audit_entry(principal, Action.PASSWORD_CHANGE, Target.USER, rec.id),
        )
        self._on_change()
        return self._signer.issue(changed.id, changed.token_version, self._clock())

    # --- administration --------------------------------------------------------------------

    def create_user(self, actor: Principal, username: str, password: str, role: Role) -> UserRecord:
        name = normalize_username(username)
        check_password(password, name)
        password_hash = self._hasher.hash(password)
        return self._users.create(
            name,
            password_hash,
            role.value,
            lambda rec: audit_entry(actor, Action.CREATE, Target.USER, rec.id, {"role": rec.role}),
        )

    def get_user(self, user_id: int) -> UserRecord:
        return self._users.get(user_id)

    def find_user(self, username: str) -> UserRecord:
        user = self._find(username)
        if user is None:
            raise NotFoundError(f"no user named {username!r}", username=username)
        return user

    def list_users(self, offset: int, limit: int) -> Page[UserRecord]:
        return self._users.page(offset, limit)

    def update_user(
        self,
        actor: Principal,
        user_id: int,
        role: Role | None = None,
        is_active: bool | None = None,
        password: str | None = None,
    ) -> UserRecord:
        """Change role, activation or (admin reset) password; never leaves no active admin."""
        password_hash = None
        if password is not None:
            check_password(password, self._users.get(user_id).username)
            password_hash = self._hasher.hash(password)
        changes = UserChanges(
            role=None if role is None else role.value,
            is_active=is_active,
            password_hash=password_hash,
        )
        details: dict[str, object] = {}
        if role is not None:
            details["role"] = role.value
        if is_active is not None:
            details["is_active"] = is_active
        if password is not None:
            details["password_reset"] = True  # that it changed, never the value
        updated = self._users.update(
            user_id,
            changes,
            lambda rec: audit_entry(actor, Action.UPDATE, Target.USER, rec.id, details),
        )
        self._on_change()
        return updated

    def delete_user(self, actor: Principal, user_id: int) -> UserRecord:
        removed = self._users.delete(
            user_id,
            lambda rec: audit_entry(
                actor, Action.DELETE, Target.USER, rec.id, {"username": rec.username}
            ),
        )
        self._on_change()
        return removed

    def _find(self, username: str) -> UserRecord | None:
        try:
            return self._users.find(normalize_username(username))
        except ValidationFailedError:
            return None  # not a valid name, so no such user; answered like a wrong password


def role_of(user: UserRecord) -> Role:
    return parse_role(user.role)


def principal_of(user: UserRecord) -> Principal:
    """The user as a caller: the actor of audit entries, the answer of authentication."""
    return user_principal(user.id, user.username, role_of(user))


def _user_id(principal: Principal) -> int:
    if principal.kind is not PrincipalKind.USER or principal.id is None:
        raise PermissionDeniedError("this needs a user login, not an API key")
    return principal.id


def _closed() -> PermissionDeniedError:
    return PermissionDeniedError(
        "registration is closed: an admin creates accounts (POST /api/v1/users)"
    )

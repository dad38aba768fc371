"""Browser sessions: sign in through the account service's login (throttling, lockout),
resolve a session cookie to a Principal, sign out. Shared by facebank.api (the cookie is a
credential of the JSON API) and facebank.web (the pages)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from facebank.auth.clock import Clock
from facebank.auth.principal import Principal
from facebank.errors import AuthenticationError, NotFoundError
from facebank.services.accounts import AccountService, principal_of
from facebank.services.audit import Action, Target, audit_entry
from facebank.store.accounts import UsersRepository
from facebank.store.web_sessions import NewWebSession, WebSessionsRepository

SESSION_COOKIE = "facebank_session"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class WebSignIn:
    """What sign-in hands the browser: the raw session id (the cookie) and its CSRF token."""

    session_id: str
    csrf_token: str
    principal: Principal


@dataclass(frozen=True)
class WebCaller:
    principal: Principal
    csrf_token: str


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "replace")).hexdigest()


def csrf_matches(expected: str, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(
        expected.encode(), presented.encode("utf-8", "replace")
    )


class WebSessionService:
    def __init__(
        self,
        repo: WebSessionsRepository,
        users: UsersRepository,
        accounts: AccountService,
        clock: Clock,
        ttl_s: int,
    ) -> None:
        self._repo = repo
        self._users = users
        self._accounts = accounts
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)

    def sign_in(self, username: str, password: str, address: str | None) -> WebSignIn:
        user = self._accounts.login(username, password, address).user
        principal = principal_of(user)
        session_id = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        self._repo.create(
            NewWebSession(
                _hash(session_id), user.id, user.token_version, csrf, self._clock() + self._ttl
            ),
            lambda rec: audit_entry(principal, Action.SIGN_IN, Target.WEB_SESSION, rec.id),
        )
        return WebSignIn(session_id, csrf, principal)

    def resolve(self, session_id: str) -> WebCaller:
        """The signed-in caller of a session cookie, or AuthenticationError."""
        ended = AuthenticationError("the browser session has ended; sign in again")
        record = self._repo.find(_hash(session_id))
        if record is None or record.expires_at <= self._clock():
            raise ended
        try:
            user = self._users.get(record.user_id)
        except NotFoundError:
            raise ended from None
        if not user.is_active or user.token_version != record.token_version:
            raise ended
        return WebCaller(principal_of(user), record.csrf_token)

    def sign_out(self, principal: Principal, session_id: str) -> None:
        self._repo.delete(
            _hash(session_id),
            lambda rec: audit_entry(principal, Action.SIGN_OUT, Target.WEB_SESSION, rec.id),
        )

"""Browser sessions: sign in through the account service's login (throttling, lockout),
resolve a session cookie to a Principal, sign out. Shared by facebank.api (the cookie is a
credential of the JSON API) and facebank.web (the pages).

Resolving a cookie reads the session row and its user through short-lived caches (the
authenticator's user cache, `auth_cache_ttl_s`), so a page's dozen API calls cost no
database reads; a sign-out or password change through this worker takes effect at once,
one through another worker within that TTL, as for API keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from facebank.auth.clock import Clock
from facebank.auth.principal import Principal
from facebank.auth.ttl_cache import TTLCache
from facebank.errors import AuthenticationError
from facebank.services.accounts import AccountService, principal_of
from facebank.services.audit import Action, Target, audit_entry
from facebank.services.authenticator import Authenticator
from facebank.store.accounts import UserRecord
from facebank.store.web_sessions import NewWebSession, WebSessionRecord, WebSessionsRepository

SESSION_COOKIE = "facebank_session"
CACHE_ENTRIES = 10_000
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
        users: Authenticator,
        accounts: AccountService,
        clock: Clock,
        ttl_s: int,
        cache_ttl_s: float,
    ) -> None:
        self._repo = repo
        self._users = users
        self._accounts = accounts
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._cache: TTLCache[str, WebSessionRecord] = TTLCache(cache_ttl_s, CACHE_ENTRIES)

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
        id_hash = _hash(session_id)
        record = self._cache.get(id_hash)
        if record is None:
            record = self._repo.find(id_hash)
            if record is None:
                raise _ended()
            self._cache.put(id_hash, record)
        return self._caller(record, self._users.user(record.user_id))

    def resolve_cached(self, session_id: str) -> WebCaller | None:
        """The caller when the caches can tell (AuthenticationError when they refuse), else
        None: then `resolve` has to run, off the event loop."""
        record = self._cache.get(_hash(session_id))
        user = None if record is None else self._users.cached_user(record.user_id)
        if record is None or user is None:
            return None
        return self._caller(record, user)

    def _caller(self, record: WebSessionRecord, user: UserRecord | None) -> WebCaller:
        if (
            record.expires_at <= self._clock()
            or user is None
            or not user.is_active
            or user.token_version != record.token_version
        ):
            raise _ended()
        return WebCaller(principal_of(user), record.csrf_token)

    def sign_out(self, principal: Principal, session_id: str) -> None:
        id_hash = _hash(session_id)
        self._cache.discard(id_hash)
        self._repo.delete(
            id_hash,
            lambda rec: audit_entry(principal, Action.SIGN_OUT, Target.WEB_SESSION, rec.id),
        )

    def sweep_expired(self) -> int:
        """Deletes expired sessions' rows (they already refuse to sign anyone in)."""
        return self._repo.delete_expired(self._clock())


def _ended() -> AuthenticationError:
    return AuthenticationError("the browser session has ended; sign in again")

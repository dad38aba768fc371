"""Turns request credentials into a Principal, in microseconds on the hot path.

A token costs one HMAC check plus a cached user lookup; a key costs one HMAC-SHA256 plus a
cached row lookup. Neither runs Argon2. Cached rows live `auth_cache_ttl_s`; this worker's
own changes clear the cache at once. A key's last-used time is written at most once per
`api_key_touch_interval_s`, not on every request.
"""

from __future__ import annotations

import hmac
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from facebank.auth.api_keys import KeyHasher, plausible_key
from facebank.auth.clock import Clock
from facebank.auth.principal import Principal, key_principal, scrape_principal
from facebank.auth.roles import parse_role
from facebank.auth.tokens import InvalidTokenError, TokenSigner
from facebank.auth.ttl_cache import TTLCache
from facebank.errors import AuthenticationError, NotFoundError
from facebank.services.accounts import principal_of
from facebank.store.accounts import ApiKeyRecord, ApiKeysRepository, UserRecord, UsersRepository

log = logging.getLogger(__name__)

CACHE_ENTRIES = 10_000


class _NeedsDatabase(Exception):
    """Raised inside an offline check: the answer needs the database."""


@dataclass(frozen=True)
class Credentials:
    """What a request presented; at most one of the two may be set."""

    bearer: str | None = None
    api_key: str | None = None


class Authenticator:
    def __init__(
        self,
        users: UsersRepository,
        keys: ApiKeysRepository,
        signer: TokenSigner,
        key_hasher: KeyHasher,
        clock: Clock,
        cache_ttl_s: float,
        touch_interval_s: float,
        scrape_key: str | None = None,
    ) -> None:
        self._users = users
        self._keys = keys
        self._signer = signer
        self._key_hasher = key_hasher
        self._clock = clock
        self._scrape_key = scrape_key.encode() if scrape_key else None
        self._user_cache: TTLCache[int, UserRecord] = TTLCache(cache_ttl_s, CACHE_ENTRIES)
        self._key_cache: TTLCache[str, ApiKeyRecord] = TTLCache(cache_ttl_s, CACHE_ENTRIES)
        self._touch_interval = timedelta(seconds=touch_interval_s)
        self._touched: dict[int, datetime] = {}
        self._touch_lock = threading.Lock()

    def authenticate(self, credentials: Credentials) -> Principal:
        """The caller, or AuthenticationError; may read (and write) the database."""
        return self._authenticate(credentials, offline=False)

    def authenticate_cached(self, credentials: Credentials) -> Principal | None:
        """The caller when no database access is needed (the usual case: cached key or user
        and no last-used time due), AuthenticationError when refused without one, else None:
        then `authenticate` has to run, off the event loop."""
        try:
            return self._authenticate(credentials, offline=True)
        except _NeedsDatabase:
            return None

    def _authenticate(self, credentials: Credentials, offline: bool) -> Principal:
        if credentials.bearer is not None and credentials.api_key is not None:
            raise AuthenticationError("send either a bearer token or an X-API-Key, not both")
        presented = credentials.api_key if credentials.api_key is not None else credentials.bearer
        if not presented:
            raise AuthenticationError("credentials required: a bearer token or an X-API-Key")
        if self._is_scrape_key(presented):
            return scrape_principal()
        if credentials.api_key is not None:
            return self._authenticate_key(credentials.api_key, offline)
        return self._authenticate_token(presented, offline)

    def authenticate_token(self, token: str) -> Principal:
        return self._authenticate_token(token, offline=False)

    def authenticate_key(self, key: str) -> Principal:
        return self._authenticate_key(key, offline=False)

    def _authenticate_token(self, token: str, offline: bool) -> Principal:
        now = self._clock()
        try:
            claims = self._signer.verify(token, now)
        except InvalidTokenError:
            raise AuthenticationError("the token is invalid or has expired") from None
        user = self._user(claims.user_id, offline)
        if user is None or not user.is_active or user.token_version != claims.version:
            raise AuthenticationError("the token is no longer valid; log in again")
        return principal_of(user)

    def _authenticate_key(self, key: str, offline: bool) -> Principal:
        if not plausible_key(key):
            raise AuthenticationError("the API key is not valid")
        digest = self._key_hasher.digest(key)
        record = self._key_cache.get(digest)
        if record is None:
            if offline:
                raise _NeedsDatabase
            record = self._keys.find_by_hash(digest)
            if record is None:
                raise AuthenticationError("the API key is not valid")
            self._key_cache.put(digest, record)
        now = self._clock()
        if not record.usable_at(now):
            raise AuthenticationError("the API key is revoked or expired")
        self._maybe_touch(record, now, offline)
        return key_principal(record.id, record.name, parse_role(record.role))

    def forget(self) -> None:
        """Drop cached users and keys (after a change made through this worker)."""
        self._user_cache.clear()
        self._key_cache.clear()

    def user(self, user_id: int) -> UserRecord | None:
        """A user through the cache (for browser sessions, which name their user by id)."""
        return self._user(user_id, offline=False)

    def cached_user(self, user_id: int) -> UserRecord | None:
        """The cached user, or None when only the database can tell."""
        try:
            return self._user(user_id, offline=True)
        except _NeedsDatabase:
            return None

    def _user(self, user_id: int, offline: bool) -> UserRecord | None:
        user = self._user_cache.get(user_id)
        if user is None:
            if offline:
                raise _NeedsDatabase
            try:
                user = self._users.get(user_id)
            except NotFoundError:
                return None
            self._user_cache.put(user_id, user)
        return user

    def _is_scrape_key(self, presented: str) -> bool:
        return self._scrape_key is not None and hmac.compare_digest(
            presented.encode("utf-8", "replace"), self._scrape_key
        )

    def _maybe_touch(self, record: ApiKeyRecord, now: datetime, offline: bool) -> None:
        with self._touch_lock:
            last = self._touched.get(record.id) or record.last_used_at
            if last is not None and now - last < self._touch_interval:
                return
            if offline:
                raise _NeedsDatabase
            # Claimed before writing, so concurrent requests do not all write.
            self._touched[record.id] = now
        try:
            self._keys.touch(record.id, now)
        except Exception:  # a lost timestamp must not fail the request it belongs to
            log.exception("could not record the use of API key %d", record.id)

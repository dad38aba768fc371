"""Builds the account, key, audit and authentication services from the settings.

Used by the composition root and by the `facebank user` command (which needs no models).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from facebank.auth.api_keys import KeyHasher
from facebank.auth.clock import Clock
from facebank.auth.passwords import PasswordHasher
from facebank.auth.roles import Role
from facebank.auth.secret import derive_keys, load_secret
from facebank.auth.tokens import TokenSigner
from facebank.config import Settings
from facebank.services.accounts import AccountService
from facebank.services.api_keys import ApiKeyService
from facebank.services.audit import AuditService
from facebank.services.authenticator import Authenticator
from facebank.services.login_guard import LoginGuard
from facebank.services.web_sessions import WebSessionService
from facebank.store.accounts import ApiKeysRepository, LoginThrottleRepository, UsersRepository
from facebank.store.audit import AuditRepository
from facebank.store.web_sessions import WebSessionsRepository

log = logging.getLogger(__name__)


@dataclass
class AuthServices:
    accounts: AccountService
    api_keys: ApiKeyService
    authenticator: Authenticator
    audit: AuditService
    login_guard: LoginGuard
    web_sessions: WebSessionService

    def warn_if_unclaimed(self) -> None:
        """A fresh install is reachable only by whoever registers first: say so loudly."""
        if self.accounts.registration_open():
            log.warning(
                "registration is open: %s. Create the admin now with "
                "`facebank user create --admin NAME`, or POST /api/v1/auth/register.",
                "no admin exists yet, the first user to register becomes admin"
                if not self.accounts.has_admin()
                else "FACEBANK_OPEN_REGISTRATION is on, anyone may register as a viewer",
            )


def build_auth(settings: Settings, sessions: sessionmaker[Session], clock: Clock) -> AuthServices:
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    keys = derive_keys(load_secret(settings.data_dir, secret))
    signer = TokenSigner(keys.token_signing, timedelta(seconds=settings.token_ttl_s))
    users = UsersRepository(sessions, admin_role=Role.ADMIN.value)
    key_repo = ApiKeysRepository(sessions)
    scrape = settings.metrics_scrape_key.get_secret_value() if settings.metrics_scrape_key else None
    authenticator = Authenticator(
        users,
        key_repo,
        signer,
        KeyHasher(keys.api_key_hashing),
        clock,
        cache_ttl_s=settings.auth_cache_ttl_s,
        touch_interval_s=settings.api_key_touch_interval_s,
        scrape_key=scrape,
    )
    guard = LoginGuard.from_settings(LoginThrottleRepository(sessions), settings, clock)
    accounts = AccountService(
        users,
        PasswordHasher(),
        signer,
        guard,
        clock,
        open_registration=settings.open_registration,
        on_change=authenticator.forget,
    )
    api_keys = ApiKeyService(
        key_repo, KeyHasher(keys.api_key_hashing), clock, on_change=authenticator.forget
    )
    audit = AuditService(AuditRepository(sessions), clock)
    web_sessions = WebSessionService(
        WebSessionsRepository(sessions),
        authenticator,
        accounts,
        clock,
        settings.web_session_ttl_s,
        cache_ttl_s=settings.auth_cache_ttl_s,
    )
    return AuthServices(accounts, api_keys, authenticator, audit, guard, web_sessions)

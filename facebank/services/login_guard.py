"""Login throttling: lock out a user name, or a client address, after repeated failures."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from facebank.auth.clock import Clock
from facebank.auth.lockout import LockoutPolicy, ThrottleState, after_failure
from facebank.config import Settings
from facebank.errors import RateLimitedError
from facebank.store.accounts import LoginThrottleRepository

# Rows for names and addresses that went quiet are dropped at most this often.
PURGE_EVERY = timedelta(hours=1)

USER_PREFIX = "user:"
ADDRESS_PREFIX = "addr:"


class LoginGuard:
    def __init__(
        self,
        repo: LoginThrottleRepository,
        user_policy: LockoutPolicy,
        address_policy: LockoutPolicy,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._policies = {USER_PREFIX: user_policy, ADDRESS_PREFIX: address_policy}
        self._clock = clock
        self._last_purge: datetime | None = None

    @classmethod
    def from_settings(
        cls, repo: LoginThrottleRepository, settings: Settings, clock: Clock
    ) -> LoginGuard:
        def policy(threshold: int) -> LockoutPolicy:
            return LockoutPolicy(
                threshold=threshold,
                base=timedelta(seconds=settings.login_lockout_base_s),
                ceiling=timedelta(seconds=settings.login_lockout_max_s),
                forget_after=timedelta(seconds=settings.login_forget_after_s),
            )

        return cls(
            repo,
            policy(settings.login_max_failures_per_user),
            policy(settings.login_max_failures_per_address),
            clock,
        )

    def check(self, username: str, address: str | None) -> None:
        """Refuse (429) while the name or the address is locked; the password is then not
        even checked, so a locked account cannot be probed."""
        now = self._clock()
        locked = [
            state.locked_until
            for state in self._repo.states(_keys(username, address)).values()
            if state.locked_until is not None and state.locked_until > now
        ]
        if locked:
            retry_after = max(1, math.ceil((max(locked) - now).total_seconds()))
            raise RateLimitedError(
                "too many failed logins; try again later", retry_after_s=retry_after
            )

    def failed(self, username: str, address: str | None) -> None:
        now = self._clock()

        def next_state(key: str, state: ThrottleState | None) -> ThrottleState:
            return after_failure(self._policy_for(key), state, now)

        self._repo.update(_keys(username, address), next_state)
        if self._last_purge is None or now - self._last_purge >= PURGE_EVERY:
            self._last_purge = now
            self.purge()

    def succeeded(self, username: str) -> None:
        # Only the name is cleared: one valid account must not reset its address's counter
        # and so unlock guessing other accounts from there.
        self._repo.clear(USER_PREFIX + username)

    def purge(self) -> int:
        longest = max(p.ceiling + p.forget_after for p in self._policies.values())
        return self._repo.purge_before(self._clock() - longest)

    def _policy_for(self, key: str) -> LockoutPolicy:
        prefix = USER_PREFIX if key.startswith(USER_PREFIX) else ADDRESS_PREFIX
        return self._policies[prefix]


def _keys(username: str, address: str | None) -> list[str]:
    keys = [USER_PREFIX + username]
    if address:
        keys.append(ADDRESS_PREFIX + address)
    return keys

"""Argon2id password hashing and the rules for user names and passwords."""

from __future__ import annotations

import re

from argon2 import PasswordHasher as Argon2Hasher
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from facebank.errors import ValidationFailedError

USERNAME_MAX = 64
USERNAME_RE = re.compile(rf"^[a-z0-9][a-z0-9._@+-]{{2,{USERNAME_MAX - 1}}}$")
PASSWORD_MIN = 10
# Long enough for any passphrase or manager-generated password, short enough that nobody can
# make the server hash megabytes per attempt.
PASSWORD_MAX = 256

# RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes): ~50 ms per hash on one
# laptop core, which only login and password changes pay; requests use tokens or keys.
TIME_COST = 3
MEMORY_KIB = 64 * 1024
PARALLELISM = 4


def normalize_username(raw: str) -> str:
    """User names compare without case ("Alice" and "alice" are one account)."""
    name = raw.strip().lower()
    if not USERNAME_RE.fullmatch(name):
        raise ValidationFailedError(
            "username must be 3-64 characters: letters, digits and . _ @ + - "
            "(starting with a letter or digit)",
            field="username",
        )
    return name


def check_password(password: str, username: str) -> None:
    """NIST SP 800-63B style: length, not the user name; no composition rules."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationFailedError(
            f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters", field="password"
        )
    if password.strip().lower() == username.lower():
        raise ValidationFailedError("password must not be the user name", field="password")


class PasswordHasher:
    """Hashes and verifies passwords; verify() never raises for a wrong or damaged hash."""

    def __init__(
        self,
        time_cost: int = TIME_COST,
        memory_kib: int = MEMORY_KIB,
        parallelism: int = PARALLELISM,
    ) -> None:
        self._argon2 = Argon2Hasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Verified against when the user does not exist, so that answer takes as long as a
        # wrong password and does not reveal which names have accounts.
        self._dummy = self._argon2.hash("facebank-timing-equaliser")

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._argon2.verify(stored_hash or self._dummy, password) and (
                stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True after the cost parameters were raised; login then upgrades the stored hash."""
        try:
            return self._argon2.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

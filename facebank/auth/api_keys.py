"""API keys for machines: random, shown once, stored and looked up as a keyed hash.

HMAC-SHA256 under a server secret rather than Argon2: keys carry 256 bits of entropy, so a
slow hash adds nothing against guessing, while a fast deterministic one allows an indexed
lookup and costs microseconds per request. A stolen table alone cannot be used to test keys.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "fbk_"
# Shown in listings so people can tell keys apart; 8 random characters reveal ~48 bits of 256.
DISPLAY_CHARS = len(KEY_PREFIX) + 8
# Generated keys are 47 characters; anything much longer is not one of ours.
MAX_KEY_CHARS = 128


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def display_prefix(key: str) -> str:
    return key[:DISPLAY_CHARS]


class KeyHasher:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def digest(self, key: str) -> str:
        return hmac.new(self._secret, key.encode("utf-8"), hashlib.sha256).hexdigest()


def plausible_key(key: str) -> bool:
    """Cheap shape check before hashing or touching the database."""
    return key.startswith(KEY_PREFIX) and len(key) <= MAX_KEY_CHARS

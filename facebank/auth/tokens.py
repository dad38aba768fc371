"""Signed bearer tokens (JWT, HS256) with an expiry; the clock is passed in, not read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

ALGORITHM = "HS256"
ISSUER = "facebank"
# Larger tokens are not ours; refuse them before any parsing.
MAX_TOKEN_CHARS = 2048


class InvalidTokenError(Exception):
    """Bad signature, malformed, wrong issuer or expired. The reason stays server-side."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    version: int  # the user's token_version when issued
    expires_at: datetime


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    expires_in_s: int


class TokenSigner:
    def __init__(self, key: bytes, ttl: timedelta) -> None:
        self._key = key
        self._ttl = ttl

    @property
    def ttl(self) -> timedelta:
        return self._ttl

    def issue(self, user_id: int, version: int, now: datetime) -> IssuedToken:
        expires = now + self._ttl
        claims = {
            "iss": ISSUER,
            "sub": str(user_id),
            "ver": version,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
        }
        token = jwt.encode(claims, self._key, algorithm=ALGORITHM)
        return IssuedToken(token, expires, int(self._ttl.total_seconds()))

    def verify(self, token: str, now: datetime) -> TokenClaims:
        if len(token) > MAX_TOKEN_CHARS:
            raise InvalidTokenError("token too long")
        try:
            # Times are checked below against the injected clock, not PyJWT's time.time().
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],  # pinned: no "none", no algorithm confusion
                issuer=ISSUER,
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["exp", "sub", "iss"],
                },
            )
            user_id = int(claims["sub"])
            version = int(claims.get("ver", -1))
            expires = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise InvalidTokenError(type(exc).__name__) from None
        if expires <= now:
            raise InvalidTokenError("expired")
        return TokenClaims(user_id, version, expires)

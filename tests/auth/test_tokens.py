"""Bearer tokens: signed, expiring by the injected clock, and not forgeable."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from facebank.auth.tokens import InvalidTokenError, TokenSigner
from tests.auth.fakes import FakeClock

KEY = b"k" * 32


def test_round_trip_and_expiry() -> None:
    clock = FakeClock()
    signer = TokenSigner(KEY, timedelta(minutes=60))
    issued = signer.issue(7, 3, clock())
    assert issued.expires_at == clock() + timedelta(minutes=60)
    assert issued.expires_in_s == 3600
    claims = signer.verify(issued.token, clock())
    assert (claims.user_id, claims.version) == (7, 3)
    clock.advance(3599)
    signer.verify(issued.token, clock())
    clock.advance(1)
    with pytest.raises(InvalidTokenError):
        signer.verify(issued.token, clock())


def test_another_key_or_a_changed_payload_is_refused() -> None:
    clock = FakeClock()
    token = TokenSigner(KEY, timedelta(hours=1)).issue(1, 0, clock()).token
    with pytest.raises(InvalidTokenError):
        TokenSigner(b"x" * 32, timedelta(hours=1)).verify(token, clock())
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "2"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidTokenError):
        TokenSigner(KEY, timedelta(hours=1)).verify(f"{header}.{forged}.{signature}", clock())


def test_unsigned_tokens_are_refused() -> None:
    clock = FakeClock()
    claims = {"iss": "facebank", "sub": "1", "ver": 0, "exp": int(clock().timestamp()) + 60}
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(InvalidTokenError):
        TokenSigner(KEY, timedelta(hours=1)).verify(unsigned, clock())


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 5000])
def test_garbage_is_refused(token: str) -> None:
    with pytest.raises(InvalidTokenError):
        TokenSigner(KEY, timedelta(hours=1)).verify(token, FakeClock()())

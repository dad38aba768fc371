"""Webhook signatures, checked against an HMAC computed here by hand, as a receiver would."""

from __future__ import annotations

import hashlib
import hmac

from facebank.sessions import signing

SECRET = "whsec-0123456789abcdef"


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = signing.body_bytes({"id": "evt_1", "type": "recognition", "data": {"name": "Zoë"}})
    assert body == '{"data":{"name":"Zoë"},"id":"evt_1","type":"recognition"}'.encode()
    header = signing.sign(SECRET, body, 1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_accepts_only_the_right_secret_body_and_time() -> None:
    body = b'{"id":"evt_1"}'
    header = signing.sign(SECRET, body, 1000)
    assert signing.verify(SECRET, body, header, now=1000)
    assert signing.verify(SECRET, body, header, now=1000 + signing.DEFAULT_TOLERANCE_S)
    assert not signing.verify(SECRET, body, header, now=1000 + signing.DEFAULT_TOLERANCE_S + 1)
    assert not signing.verify("another-secret-000000", body, header, now=1000)
    assert not signing.verify(SECRET, body + b" ", header, now=1000)
    assert not signing.verify(SECRET, body, header.replace("t=1000", "t=1001"), now=1000)
    assert not signing.verify(SECRET, body, "v1=" + "0" * 64, now=1000)
    # A receiver rotating secrets may list several signatures; one valid is enough.
    rotated = f"t=1000,v1={'0' * 64},{header.split(',')[1]}"
    assert signing.verify(SECRET, body, rotated, now=1000)

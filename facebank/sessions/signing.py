"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", Stripe-style header.

    X-Facebank-Signature: t=1700000000,v1=5257a869e7ec...8d8bd  (64 hex digits)

A receiver recomputes HMAC-SHA256(secret, f"{t}.".encode() + raw_body), compares it with
v1 in constant time, and refuses timestamps too far from its clock (replayed requests).
Every attempt is signed afresh, so a retry hours later still carries a current timestamp.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SIGNATURE_HEADER = "X-Facebank-Signature"
EVENT_ID_HEADER = "X-Facebank-Event-Id"
EVENT_TYPE_HEADER = "X-Facebank-Event-Type"
DELIVERY_ID_HEADER = "X-Facebank-Delivery-Id"
ATTEMPT_HEADER = "X-Facebank-Delivery-Attempt"
DEFAULT_TOLERANCE_S = 300


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, key-sorted UTF-8 JSON."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def _digest(secret: str, body: bytes, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The value of the signature header."""
    return f"t={timestamp},v1={_digest(secret, body, timestamp)}"


def verify(
    secret: str, body: bytes, header: str, now: float, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> bool:
    """True when `header` is a valid signature of `body` made within `tolerance_s` of `now`.
    Several v1 values may be present (a receiver rotating secrets); one must match."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, body, timestamp)
    return any(hmac.compare_digest(expected, c) for c in candidates)

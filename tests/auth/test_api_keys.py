"""API keys: random, recognisable prefix, keyed hash for lookup."""

from __future__ import annotations

from facebank.auth.api_keys import (
    KEY_PREFIX,
    KeyHasher,
    display_prefix,
    generate_key,
    plausible_key,
)


def test_keys_are_random_and_recognisable() -> None:
    keys = {generate_key() for _ in range(100)}
    assert len(keys) == 100
    for key in keys:
        assert key.startswith(KEY_PREFIX) and len(key) == 47 and plausible_key(key)
        assert display_prefix(key) == key[:12]


def test_hash_is_keyed_and_deterministic() -> None:
    key = generate_key()
    one, other = KeyHasher(b"a" * 32), KeyHasher(b"b" * 32)
    assert one.digest(key) == one.digest(key)
    assert one.digest(key) != other.digest(key)
    assert len(one.digest(key)) == 64 and key not in one.digest(key)


def test_implausible_keys_are_rejected_before_hashing() -> None:
    assert not plausible_key("sk_live_123")
    assert not plausible_key(KEY_PREFIX + "x" * 500)

"""The server secret: generated once, kept 0600, or taken from the environment."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from facebank.auth.secret import SECRET_FILE, SecretKeyError, derive_keys, load_secret


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_once_with_owner_only_mode(tmp_path: Path) -> None:
    first = load_secret(tmp_path, None)
    second = load_secret(tmp_path, None)
    assert first == second and len(first) >= 32
    assert _mode(tmp_path / SECRET_FILE) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_FILE]  # no temporary left over


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    secret = load_secret(tmp_path, None)
    (tmp_path / SECRET_FILE).chmod(0o644)
    assert load_secret(tmp_path, None) == secret
    assert _mode(tmp_path / SECRET_FILE) == 0o600


def test_configured_secret_wins_and_writes_nothing(tmp_path: Path) -> None:
    assert load_secret(tmp_path, "s" * 40) == b"s" * 40
    assert not (tmp_path / SECRET_FILE).exists()
    with pytest.raises(SecretKeyError):
        load_secret(tmp_path, "too short")


def test_racing_workers_agree_on_one_secret(tmp_path: Path) -> None:
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(load_secret(tmp_path, None)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1


def test_subkeys_differ_per_purpose() -> None:
    keys = derive_keys(b"m" * 32)
    assert keys.token_signing != keys.api_key_hashing
    assert derive_keys(b"m" * 32) == keys

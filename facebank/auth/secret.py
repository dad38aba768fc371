"""The server secret: from FACEBANK_SECRET_KEY, else generated once and kept in the data dir.

Everything keyed (token signatures, API key hashes) uses a subkey derived from it, so one
purpose's key can never be replayed for another.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
SECRET_MIN_CHARS = 32
OWNER_ONLY = 0o600


class SecretKeyError(Exception):
    """The configured or stored secret is unusable."""


@dataclass(frozen=True)
class ServerKeys:
    token_signing: bytes
    api_key_hashing: bytes


def derive_keys(master: bytes) -> ServerKeys:
    return ServerKeys(
        token_signing=_subkey(master, b"facebank/token-signing/v1"),
        api_key_hashing=_subkey(master, b"facebank/api-key-hashing/v1"),
    )


def _subkey(master: bytes, purpose: bytes) -> bytes:
    return hmac.new(master, purpose, hashlib.sha256).digest()


def load_secret(data_dir: Path, configured: str | None) -> bytes:
    """The configured secret, else the one in `data_dir` (created with mode 0600 if absent)."""
    if configured:
        if len(configured) < SECRET_MIN_CHARS:
            raise SecretKeyError(f"FACEBANK_SECRET_KEY must be at least {SECRET_MIN_CHARS} chars")
        return configured.encode("utf-8")
    return _load_or_create(data_dir / SECRET_FILE)


def _load_or_create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        _create(path)
    _tighten(path)
    value = path.read_text(encoding="ascii").strip()
    if len(value) < SECRET_MIN_CHARS:
        raise SecretKeyError(f"{path} holds no usable secret (empty or too short)")
    return value.encode("ascii")


def _create(path: Path) -> None:
    # Written whole to a private temporary file, then linked into place: a concurrent worker
    # either sees no file or the complete one, and exactly one creator wins.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
            log.info("generated the server secret in %s (mode 0600)", path)
        except FileExistsError:
            pass  # another worker won the race; use its secret
    finally:
        tmp.unlink(missing_ok=True)


def _tighten(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s was readable by others (mode %o); setting it to 0600", path, mode)
        path.chmod(OWNER_ONLY)

"""Content hashes of model files: a model's identity is its bytes, not its name."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=32)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    del size, mtime_ns  # part of the cache key: a replaced file is hashed again
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_hash(path: Path) -> str:
    """sha256 hex of a file's bytes (remembered per path, size and mtime)."""
    real = path.resolve()
    st = real.stat()
    return _sha256(str(real), st.st_size, st.st_mtime_ns)

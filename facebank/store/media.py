"""Content-addressed photo files: root/ab/cd/<sha256>.<ext>.

The sha256 of the bytes is the reference stored with each face, so the same photo is kept
once, a file is never modified after it is written, and a ref can be checked for shape
before it is ever turned into a path (no traversal out of the root).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from facebank.durable import fsync_dir
from facebank.errors import NotFoundError, ValidationFailedError
from facebank.store.validation import check_media_ref, is_media_ref

_EXT = re.compile(r"[a-z0-9]{1,10}")
_TEMP_PREFIX = ".tmp-"
# A file younger than this is never swept: it may belong to an enrollment whose database
# transaction has not committed yet.
DEFAULT_SWEEP_MIN_AGE_S = 3600.0


def media_ref(data: bytes) -> str:
    """The ref of these bytes: what a face stores, and the file's name here."""
    return hashlib.sha256(data).hexdigest()


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes, ext: str) -> str:
        """Store the bytes (atomically and durably) and return their ref. Storing the same
        bytes again is a no-op that returns the same ref."""
        ref = media_ref(data)
        self._put(data, ext, ref)
        return ref

    def put_if_ref(self, data: bytes, ext: str, ref: str) -> bool:
        """Store the bytes as `put` does if their ref is `ref` (a photo checked unchanged
        since it was analysed), hashing them once; False, storing nothing, if it is not."""
        if media_ref(data) != ref:
            return False
        self._put(data, ext, ref)
        return True

    def _put(self, data: bytes, ext: str, ref: str) -> None:
        ext = ext.lower().lstrip(".")
        if not _EXT.fullmatch(ext):
            raise ValidationFailedError(f"bad media file extension {ext!r}", field="ext")
        existing = self._find(ref)
        if existing is not None:
            # Refresh the age so a concurrent sweep treats the photo as newly written.
            os.utime(existing)
            return
        directory = self._dir(ref)
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, directory / f"{ref}.{ext}")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        fsync_dir(directory)

    def path(self, ref: str) -> Path:
        found = self._find(check_media_ref(ref))
        if found is None:
            raise NotFoundError(f"media {ref} not found", media_ref=ref)
        return found

    def exists(self, ref: str) -> bool:
        return self._find(check_media_ref(ref)) is not None

    def read(self, ref: str) -> bytes:
        return self.path(ref).read_bytes()

    def delete(self, ref: str) -> None:
        """Remove the photo; a missing one is fine (deletes are retried after crashes)."""
        check_media_ref(ref)
        for file in self._candidates(ref):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()

    def iter_refs(self) -> Iterator[str]:
        for file in self._files():
            yield file.name.split(".", 1)[0]

    def sweep(self, referenced: set[str], min_age_s: float = DEFAULT_SWEEP_MIN_AGE_S) -> int:
        """Delete photos no face references, and stale temp files (crash leftovers); returns
        how many files went. Files younger than `min_age_s` are kept (see the constant)."""
        cutoff = time.time() - min_age_s
        removed = 0
        for file in self._files(include_temp=True):
            is_temp = file.name.startswith(_TEMP_PREFIX)
            if not is_temp and file.name.split(".", 1)[0] in referenced:
                continue
            try:
                if file.stat().st_mtime > cutoff:
                    continue
                file.unlink()
            except FileNotFoundError:
                continue
            removed += 1
        return removed

    def _dir(self, ref: str) -> Path:
        return self.root / ref[:2] / ref[2:4]

    def _candidates(self, ref: str) -> list[Path]:
        directory = self._dir(ref)
        if not directory.is_dir():
            return []
        return sorted(directory.glob(f"{ref}.*"))

    def _find(self, ref: str) -> Path | None:
        candidates = self._candidates(ref)
        return candidates[0] if candidates else None

    def _files(self, include_temp: bool = False) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not (first.is_dir() and len(first.name) == 2):
                continue
            for second in sorted(first.iterdir()):
                if not (second.is_dir() and len(second.name) == 2):
                    continue
                for file in sorted(second.iterdir()):
                    if not file.is_file():
                        continue
                    if file.name.startswith(_TEMP_PREFIX):
                        if include_temp:
                            yield file
                    elif is_media_ref(file.name.split(".", 1)[0]):
                        yield file

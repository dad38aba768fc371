"""Model files prepared once and kept on disk, so later starts skip the preparation.

A cached file is named after the source's content hash and the preparation's version, so
a replaced model or a changed rewrite never picks up a stale file. Files are written to a
temporary name and renamed into place: several workers starting at once may all prepare
the same file, but each reader sees a complete one.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from facebank.models.graph_rewrite import REWRITE_VERSION, prelu_as_max
from facebank.models.pack import content_hash

log = logging.getLogger(__name__)

_UNCHANGED = ".unchanged"  # marker: the rewrite does not apply to this source


class ModelCache:
    """Prepared model files under `root` (created on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def recogniser(self, source: Path) -> Path:
        """The recogniser to load: the exact PReLU rewrite of `source` when it applies
        (written here on first use), else `source` itself."""
        stem = f"{source.stem}-{content_hash(source)[:16]}-{REWRITE_VERSION}"
        target = self.root / f"{stem}.onnx"
        marker = self.root / f"{stem}{_UNCHANGED}"
        if target.is_file():
            return target
        if marker.is_file():
            return source
        rewritten = prelu_as_max(source)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if rewritten is None:
                _write_atomic(marker, b"")
                return source
            _write_atomic(target, rewritten)
        except OSError as exc:
            # A read-only data dir must not stop the service; it only costs speed.
            log.warning("model cache %s not writable (%s); running %s unchanged",
                        self.root, exc, source.name)
            return source
        return target


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

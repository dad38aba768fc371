"""Model files prepared once and kept on disk, so later starts skip the preparation.

A cached file is named after the source's content hash and the preparation's version, so
a replaced model or a changed rewrite never picks up a stale file. Files are written to a
temporary name and renamed into place: several workers starting at once may all prepare
the same file, but each reader sees a complete one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import tempfile
from functools import cache
from pathlib import Path

import onnxruntime as ort

from facebank.models.graph_rewrite import REWRITE_VERSION, prelu_as_max
from facebank.models.hashing import content_hash

log = logging.getLogger(__name__)

_UNCHANGED = ".unchanged"  # marker: the rewrite does not apply to this source
_CPU = "CPUExecutionProvider"


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

    def optimised(self, source: Path, providers: list[str]) -> Path | None:
        """Where ORT's fully optimised graph of `source` is kept, or None when it must not
        be: only CPU-only sessions, because a graph optimised for one provider set is not
        valid for another. The name holds everything the optimised graph depends on: the
        source's bytes, the ORT version and this CPU (ORT picks kernels by instruction
        set), so a data dir moved to another machine or upgraded ORT prepares anew."""
        if providers != [_CPU]:
            return None
        tag = f"ort{ort.__version__}-{_cpu_tag()}"
        return self.root / "ort" / f"{source.stem}-{content_hash(source)[:16]}-{tag}.onnx"

    def staging(self, target: Path) -> Path:
        """A unique temporary name next to `target`, for a writer that cannot write to an
        open file (ORT takes a path); `publish` moves it into place."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        return Path(tmp)

    @staticmethod
    def publish(staged: Path, target: Path) -> None:
        os.replace(staged, target)


@cache
def _cpu_tag() -> str:
    """The machine type and a short hash of the CPU's feature flags."""
    flags = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = next((line for line in f if line.startswith("flags")), "")
    except OSError:
        pass  # not Linux: the machine type alone
    return f"{platform.machine()}-{hashlib.sha256(flags.encode()).hexdigest()[:8]}"


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

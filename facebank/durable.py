"""Making file renames survive a power cut (the index snapshots and the media store)."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    """Flush a directory entry, so a rename into it is durable (POSIX). Not every platform
    can open a directory; there the rename is as durable as the platform makes it."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

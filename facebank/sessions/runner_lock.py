"""Which process runs the cameras and webhook deliveries of a data directory.

`facebank serve --workers N` starts N processes over one database; if each resumed and ran
every session, every camera would be read N times and every person reported N times. The
process holding an exclusive lock on a file in the data directory is the runner; the others
only serve the API and stand by (the kernel releases the lock when the runner dies, however
it dies). Running sessions on several machines needs camera leases in the database instead.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class RunnerLock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None

"""One status line on stderr while a phase runs (rewritten in place on a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, interval_s: float = 0.5) -> None:
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._interval = interval_s
        self._last = 0.0

    def update(self, text: str, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < (self._interval if self._tty else 5.0):
            return
        self._last = now
        if self._tty:
            self._stream.write("\r\033[K" + text)
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def done(self, text: str) -> None:
        self._stream.write(("\r\033[K" if self._tty else "") + text + "\n")
        self._stream.flush()
        self._last = 0.0

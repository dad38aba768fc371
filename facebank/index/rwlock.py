"""A readers-writer lock with writer preference.

Searches vastly outnumber enrollments, so searches share the lock; a waiting writer
blocks *new* readers so a steady stream of searches cannot starve an enrollment.
The lock is not reentrant: a thread holding `read()` must not ask for `read()` again
(it would deadlock behind a waiting writer), nor upgrade to `write()`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class RWLock:
    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0
        self._readers_waiting = 0

    def queued(self) -> tuple[int, int]:
        """(writers, readers) waiting for the lock right now: for diagnostics and tests."""
        return self._writers_waiting, self._readers_waiting

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            # Writer preference: queue behind any waiting writer, not just an active one.
            if self._writer or self._writers_waiting:
                self._wait_to_read()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    def _wait_to_read(self) -> None:
        """Called holding the condition; counted only here, off the uncontended path."""
        self._readers_waiting += 1
        try:
            while self._writer or self._writers_waiting:
                self._cond.wait()
        finally:
            self._readers_waiting -= 1

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            except BaseException:
                # Interrupted while queued: readers held back by us must be let go.
                self._writers_waiting -= 1
                self._cond.notify_all()
                raise
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()

"""Blocking health checks run off the event loop without piling up threads.

A database that stops answering (network partition, hung server) can hold a connect or a
query for minutes. Probes arrive every few seconds, so running each on the shared thread
pool would fill it with stuck threads and starve every other route. Instead:
- concurrent probes share the check already in flight (single flight);
- each caller waits at most its timeout and then reports "no answer";
- a check older than that timeout no longer counts as in flight: the next probe starts a
  fresh one (so readiness recovers as soon as the database is back, even if an old
  attempt is still stuck), up to `max_stuck` stuck threads, after which probes fail fast;
- the threads are daemons: a stuck check never holds up the process's exit.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class CheckTimeout(Exception):
    """The check gave no answer within the caller's timeout."""


class SingleFlightCheck(Generic[T]):
    def __init__(self, check: Callable[[], T], name: str = "health-check", max_stuck: int = 4):
        self._check = check
        self._name = name
        self._max_stuck = max_stuck
        self._lock = threading.Lock()
        self._current: tuple[float, Future[T]] | None = None
        self._running = 0  # threads still inside the check, stuck ones included

    async def run(self, timeout_s: float) -> T:
        """The check's result; raises CheckTimeout, or whatever the check raised."""
        future = self._join_or_start(timeout_s)
        if future is None:
            raise CheckTimeout(f"{self._running} earlier checks are still stuck")
        shared = asyncio.wrap_future(future)
        # Read the outcome even when every caller gave up, or asyncio logs it as lost.
        shared.add_done_callback(_consume)
        try:
            # shield: one caller timing out must not cancel the check others share.
            return await asyncio.wait_for(asyncio.shield(shared), timeout_s)
        except TimeoutError:
            raise CheckTimeout(f"no answer within {timeout_s:g} s") from None

    @property
    def running(self) -> int:
        return self._running

    def _join_or_start(self, timeout_s: float) -> Future[T] | None:
        now = time.monotonic()
        with self._lock:
            current = self._current
            if current is not None and not current[1].done() and now - current[0] < timeout_s:
                return current[1]
            if self._running >= self._max_stuck:
                return None
            future: Future[T] = Future()
            self._current = (now, future)
            self._running += 1
        threading.Thread(target=self._work, args=(future,), name=self._name, daemon=True).start()
        return future

    def _work(self, future: Future[T]) -> None:
        try:
            future.set_result(self._check())
        except BaseException as exc:  # handed to the awaiting callers
            future.set_exception(exc)
        finally:
            with self._lock:
                self._running -= 1


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()

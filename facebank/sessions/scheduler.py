"""Fair round-robin of cameras' latest frames over a fixed number of inference threads.

Each camera has at most one frame waiting (its slot) and is processed by one thread at a
time. A camera with a new frame joins the back of the queue; after its frame is processed it
rejoins at the back if another frame came meanwhile. So with K busy cameras every camera
gets about 1/K of the inference capacity: under load all cameras' fps drop together, and
the HTTP API keeps the cores these threads do not use.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Protocol

from facebank.sessions.frames import Frame, FrameSlot

log = logging.getLogger(__name__)


def _inline(work: Callable[[], None]) -> None:
    work()


class FrameJob(Protocol):
    """One camera's share of the scheduler."""

    @property
    def slot(self) -> FrameSlot: ...

    def process(self, frame: Frame) -> None: ...


class FrameScheduler:
    def __init__(self, threads: int, run: Callable[[Callable[[], None]], None] = _inline) -> None:
        """`run(work)` executes one frame's work and returns when it is done: inline by
        default; the service passes its inference executor, which shares the cores (and
        model lanes) fairly between these threads and HTTP requests."""
        if threads < 1:
            raise ValueError("the scheduler needs at least one thread")
        self._threads = threads
        self._run = run
        self._cond = threading.Condition()
        self._ready: deque[FrameJob] = deque()
        self._members: set[int] = set()
        self._queued: set[int] = set()
        self._busy: set[int] = set()
        self._closed = False
        self._workers: list[threading.Thread] = []

    @property
    def threads(self) -> int:
        return self._threads

    def start(self) -> None:
        for n in range(self._threads):
            worker = threading.Thread(
                target=self._work, name=f"session-inference-{n}", daemon=True
            )
            worker.start()
            self._workers.append(worker)

    def close(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._closed = True
            self._ready.clear()
            self._queued.clear()
            self._cond.notify_all()
        for worker in self._workers:
            worker.join(timeout)

    def add(self, job: FrameJob) -> None:
        with self._cond:
            self._members.add(id(job))
        if job.slot.has_frame():
            self.notify(job)

    def remove(self, job: FrameJob) -> None:
        """Take the job out and wait until its frame in flight (if any) is done. Never call
        it from inside `job.process`."""
        with self._cond:
            self._members.discard(id(job))
            if id(job) in self._queued:
                self._queued.discard(id(job))
                self._ready.remove(job)
            self._cond.wait_for(lambda: id(job) not in self._busy)

    def notify(self, job: FrameJob) -> None:
        """The job's slot has a frame: queue it unless it is queued or running already."""
        with self._cond:
            self._enqueue(job)

    def _enqueue(self, job: FrameJob) -> None:
        key = id(job)
        if key in self._members and key not in self._queued and key not in self._busy:
            self._ready.append(job)
            self._queued.add(key)
            self._cond.notify_all()  # workers and remove() share the condition

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._ready and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                job = self._ready.popleft()
                self._queued.discard(id(job))
                self._busy.add(id(job))
            try:
                frame = job.slot.take()
                if frame is not None:
                    self._run(partial(job.process, frame))
            except Exception:  # one bad frame must not stop the thread serving every camera
                log.exception("processing a camera frame failed")
            finally:
                with self._cond:
                    self._busy.discard(id(job))
                    self._cond.notify_all()  # remove() may be waiting for this job
                    if job.slot.has_frame():
                        self._enqueue(job)

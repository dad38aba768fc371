"""Runs CPU-bound jobs (model inference and the work around it) on the pipeline's lanes.

Dispatch rule, chosen by measurement on a 2-core machine (see docs/bench.md):
- a job that finds nothing else in flight runs on the wide lane: all cores on one image,
  the lowest latency for a lone request;
- otherwise it runs on an idle narrow (single-thread) lane: one image per core is the
  highest throughput, because ONNX Runtime's intra-op threads synchronise after every
  operator and these small models give them little to share;
- when every narrow lane is busy it waits in arrival order. The wide lane never takes a
  job while others are in flight, so the cores are oversubscribed at most while a wide
  job that started alone finishes.
"""

from __future__ import annotations

import contextvars
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from facebank.pipeline.lanes import Lane, Lanes

T = TypeVar("T")


@dataclass
class _Job:
    call: Callable[[], Any]
    future: Future[Any]


@dataclass(frozen=True)
class ExecutorStats:
    in_flight: int  # running plus waiting
    waiting: int
    busy_lanes: tuple[str, ...]
    jobs_by_lane: dict[str, int]


class _LaneWorker:
    """One lane and the single thread that runs its jobs."""

    def __init__(self, lane: Lane, lanes: Lanes) -> None:
        self.lane = lane
        self.busy = False
        self.jobs = 0
        self.pool = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix=f"inference-{lane.name}",
            initializer=lanes.bind,
            initargs=(lane,),
        )


class InferenceExecutor:
    """Thread-safe: callable from the event loop (through asyncio.wrap_future) and from
    worker threads such as camera readers."""

    def __init__(self, lanes: Lanes) -> None:
        workers = [_LaneWorker(lane, lanes) for lane in lanes]
        self._wide = next((w for w in workers if w.lane.wide), None)
        self._narrow = [w for w in workers if not w.lane.wide]
        if not self._narrow:
            # A wide lane alone still works: it is then simply the only lane.
            self._narrow, self._wide = workers, None
        self._workers = workers
        self._lock = threading.Lock()
        self._waiting: deque[_Job] = deque()
        self._in_flight = 0
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: object) -> Future[T]:
        """Run fn(*args) on a lane; the caller's context variables (request id) go along."""
        context = contextvars.copy_context()
        job = _Job(lambda: context.run(fn, *args), Future())
        with self._lock:
            if self._closed:
                raise RuntimeError("the inference executor is closed")
            self._in_flight += 1
            worker = self._pick_locked()
            if worker is None:
                self._waiting.append(job)
            else:
                self._start_locked(worker, job)
        return job.future

    def stats(self) -> ExecutorStats:
        with self._lock:
            return ExecutorStats(
                in_flight=self._in_flight,
                waiting=len(self._waiting),
                busy_lanes=tuple(w.lane.name for w in self._workers if w.busy),
                jobs_by_lane={w.lane.name: w.jobs for w in self._workers},
            )

    @property
    def lanes(self) -> tuple[Lane, ...]:
        return tuple(w.lane for w in self._workers)

    def close(self) -> None:
        """Refuse new jobs and drop waiting ones; running jobs finish on their threads."""
        with self._lock:
            self._closed = True
            while self._waiting:
                self._waiting.popleft().future.cancel()
        for worker in self._workers:
            worker.pool.shutdown(wait=False)

    def _pick_locked(self) -> _LaneWorker | None:
        if self._wide is not None and self._in_flight == 1 and not self._wide.busy:
            return self._wide
        return next((w for w in self._narrow if not w.busy), None)

    def _start_locked(self, worker: _LaneWorker, job: _Job) -> None:
        worker.busy = True
        worker.jobs += 1
        worker.pool.submit(self._run, worker, job)

    def _run(self, worker: _LaneWorker, job: _Job) -> None:
        ok, value = False, None
        try:
            # False when the caller gave up (cancelled) while the job was waiting.
            if not job.future.set_running_or_notify_cancel():
                return
            try:
                value, ok = job.call(), True
            except BaseException as exc:  # handed to the caller, who re-raises it
                value = exc
        finally:
            self._finish(worker)
        # The lane is free before the caller hears back: a client that sends its next
        # request at once finds nothing in flight and gets the wide lane again.
        if ok:
            job.future.set_result(value)
        else:
            assert isinstance(value, BaseException)
            job.future.set_exception(value)

    def _finish(self, worker: _LaneWorker) -> None:
        with self._lock:
            self._in_flight -= 1
            worker.busy = False
            if not self._waiting or self._closed:
                return
            # Waiting jobs go to narrow lanes only: they exist because others are in flight.
            nxt = worker if worker is not self._wide else self._idle_narrow_locked()
            if nxt is not None:
                self._start_locked(nxt, self._waiting.popleft())

    def _idle_narrow_locked(self) -> _LaneWorker | None:
        return next((w for w in self._narrow if not w.busy), None)

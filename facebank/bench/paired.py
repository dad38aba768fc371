"""Single-image latency of the server against the bare pipeline, paired photo by photo.

The ceiling's latency is measured before the load test. On a host whose speed drifts (a
shared VM: the same bare pipeline differs by up to 20% minutes apart) that comparison
carries the drift. Here a bare worker process (every core on one image, like the ceiling's
latency worker) analyses a photo, then the server gets the same photo at concurrency 1, and
so on alternately, so both sides see the same moments of the machine.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from facebank.bench.ceiling import START_TIMEOUT_S, Engine, bare_engine
from facebank.bench.client import BenchClient
from facebank.bench.loadgen import send
from facebank.bench.photos import BenchPhoto
from facebank.bench.scenarios import Call
from facebank.bench.stats import percentiles_ms

ANSWER_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class PairedLatency:
    photos: int
    passes: int
    bare_p50_ms: float
    server_p50_ms: float
    ratio: float  # server p50 / bare p50
    errors: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _bare_worker(conn: Connection, engine: Engine, threads: int) -> None:
    analyze = engine(threads)
    conn.send("ready")
    while (data := conn.recv()) is not None:
        started = time.perf_counter()
        analyze(data)
        conn.send(time.perf_counter() - started)


class BareWorker:
    """A process with the bare pipeline (or another engine) that times one image when asked."""

    def __init__(self, threads: int, engine: Engine = bare_engine) -> None:
        ctx = mp.get_context("spawn")  # a fresh interpreter, as the ceiling's workers
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_bare_worker, args=(child, engine, threads), daemon=True)
        self._process.start()
        self._answer(START_TIMEOUT_S)

    def seconds(self, data: bytes) -> float:
        self._conn.send(data)
        return float(self._answer(ANSWER_TIMEOUT_S))

    def close(self) -> None:
        if self._process.is_alive():
            self._conn.send(None)
            self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()

    def __enter__(self) -> BareWorker:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _answer(self, timeout_s: float) -> Any:
        if not self._conn.poll(timeout_s):
            raise RuntimeError(f"the timing worker process gave no answer in {timeout_s:g} s")
        return self._conn.recv()


async def measure_paired(
    client: BenchClient,
    photos: Sequence[BenchPhoto],
    calls: Sequence[Call],
    threads: int,
    passes: int,
    engine: Engine = bare_engine,
) -> PairedLatency:
    """`passes` whole passes over `photos` after a warm-up pass; `calls[i]` sends photo i."""
    bare_s: list[float] = []
    server_s: list[float] = []
    errors = 0
    with BareWorker(threads, engine) as bare:
        for n in range(passes + 1):
            for photo, call in zip(photos, calls, strict=True):
                bare_time = bare.seconds(photo.data)
                sample, _ = await send(client, call)
                if n == 0:
                    continue  # warm-up: both sides size their buffers for every photo
                errors += sample.outcome != "ok"
                bare_s.append(bare_time)
                server_s.append(sample.seconds)
    bare_p = percentiles_ms(bare_s)
    server_p = percentiles_ms(server_s)
    assert bare_p is not None and server_p is not None
    return PairedLatency(
        photos=len(photos),
        passes=passes,
        bare_p50_ms=bare_p[0],
        server_p50_ms=server_p[0],
        ratio=round(server_p[0] / bare_p[0], 3),
        errors=errors,
    )

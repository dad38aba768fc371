"""The bare pipeline at its best on this machine: no HTTP, no database, no index.

Throughput: one worker process per core, each with single-thread ONNX Runtime sessions,
all decoding+detecting+aligning+embedding the same photos as the load test (processes,
not threads, so not even the GIL is shared), each for at least the given time and always
whole passes over the photos. Latency: one process whose sessions use every
core (the server's wide lane), one image at a time.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from queue import Empty
from typing import Any

from facebank.bench.photos import load_photo_set
from facebank.bench.stats import percentiles_ms
from facebank.config import Settings
from facebank.pipeline.factory import build_pipeline, wide_lane_threads
from facebank.pipeline.pipeline import FacePipeline

WARMUP_IMAGES = 8
# Generous: loading models in N fresh processes at once on a busy small machine.
START_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Ceiling:
    photo_set: str
    processes: int
    duration_s: float
    images: int
    throughput_ips: float  # images per second, all processes together
    latency_ort_threads: int
    latency_images: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_mean_ms: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# Builds, in a worker process, what analyses one encoded photo with `threads` ORT threads.
# A module-level function, so the spawned workers can be handed it (pickled by name).
Engine = Callable[[int], Callable[[bytes], object]]


def bare_pipeline(threads: int) -> FacePipeline:
    # Same settings as the server (environment / .env) except the session threads.
    return build_pipeline(Settings(ort_threads=threads), narrow_lanes=0)


def bare_engine(threads: int) -> Callable[[bytes], object]:
    """facebank's bare pipeline, as /recognize runs it when the request gives no max_faces."""
    pipeline = bare_pipeline(threads)
    max_faces = pipeline_max_faces()
    return lambda data: pipeline.analyze(data, max_faces)


def _throughput_worker(
    engine: Engine, folder: str, offset: int, duration_s: float, barrier: Barrier, results: Any
) -> None:
    analyze = engine(1)
    photos = load_photo_set("ceiling", Path(folder)).photos
    for photo in photos[:WARMUP_IMAGES]:
        analyze(photo.data)
    barrier.wait()
    started = time.perf_counter()
    count, i = 0, offset
    # Whole passes only: photos differ ~10x in cost, and a pass cut short would weigh the
    # cheap or the dear ones more than the load test's even cycle over the same photos.
    while time.perf_counter() - started < duration_s or count % len(photos):
        analyze(photos[i % len(photos)].data)
        count, i = count + 1, i + 1
    results.put((count, time.perf_counter() - started))


def _latency_worker(engine: Engine, folder: str, threads: int, rounds: int, results: Any) -> None:
    analyze = engine(threads)
    photos = load_photo_set("ceiling", Path(folder)).photos
    for photo in photos:  # warm-up: first runs allocate ORT buffers per input size
        analyze(photo.data)
    seconds = []
    for _ in range(rounds):
        for photo in photos:
            started = time.perf_counter()
            analyze(photo.data)
            seconds.append(time.perf_counter() - started)
    results.put(seconds)


def pipeline_max_faces() -> int:
    return Settings().max_faces  # what /recognize uses when the request gives no max_faces


def measure_throughput(
    folder: Path, processes: int, duration_s: float, engine: Engine = bare_engine
) -> tuple[int, float]:
    """(images, images per second) of `processes` single-thread workers running at once."""
    ctx = mp.get_context("spawn")  # fresh interpreters: no inherited ORT or OpenMP state
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(
            target=_throughput_worker,
            args=(engine, str(folder), i * 7, duration_s, barrier, results),
            daemon=True,
        )
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        counts = [_get(results, START_TIMEOUT_S + duration_s * 3, workers) for _ in workers]
    finally:
        _reap(workers)
    return sum(c for c, _ in counts), sum(c / s for c, s in counts)


def measure_latency(
    folder: Path, threads: int, rounds: int, engine: Engine = bare_engine
) -> list[float]:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    worker = ctx.Process(
        target=_latency_worker, args=(engine, str(folder), threads, rounds, results), daemon=True
    )
    worker.start()
    try:
        seconds: list[float] = _get(results, START_TIMEOUT_S * 2, [worker])
    finally:
        _reap([worker])
    return seconds


def measure_ceiling(
    name: str, folder: Path, settings: Settings, duration_s: float, rounds: int
) -> Ceiling:
    processes = settings.cpu_count
    images, rate = measure_throughput(folder, processes, duration_s)
    threads = wide_lane_threads(settings)
    latency = percentiles_ms(measure_latency(folder, threads, rounds))
    assert latency is not None
    p50, p95, _, mean = latency
    return Ceiling(
        photo_set=name,
        processes=processes,
        duration_s=duration_s,
        images=images,
        throughput_ips=round(rate, 2),
        latency_ort_threads=threads,
        latency_images=rounds * len(load_photo_set(name, folder).photos),
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        latency_mean_ms=mean,
    )


def _get(results: Any, timeout: float, workers: list[Any]) -> Any:
    """The next result; fails as soon as a worker died without one, not after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return results.get(timeout=0.5)
        except Empty:
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(
                    f"a ceiling worker process exited with code {dead[0].exitcode}"
                ) from None
    raise RuntimeError("a ceiling worker process did not report in time (hung?)")


def _reap(workers: list[Any]) -> None:
    for worker in workers:
        worker.join(timeout=10)
        if worker.is_alive():
            worker.terminate()

"""The load generator: N concurrent clients for a fixed time against a running server."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator

from facebank.bench.client import TRANSPORT_ERRORS, BenchClient, Reply
from facebank.bench.progress import Progress
from facebank.bench.scenarios import Call, Scenario
from facebank.bench.stats import LevelResult, Sample, summarise


class LoadGenerator:
    def __init__(self, client: BenchClient, progress: Progress) -> None:
        self._client = client
        self._progress = progress
        self.created_people: list[int] = []  # by enroll calls, for the cleanup

    async def run_level(
        self, scenario: Scenario, concurrency: int, warmup_s: float, duration_s: float
    ) -> LevelResult:
        counter = itertools.count()
        samples: list[tuple[Sample, str]] = []
        start = time.perf_counter()
        window = (start + warmup_s, start + warmup_s + duration_s)
        workers = [
            asyncio.create_task(self._worker(scenario, counter, window[1], samples))
            for _ in range(concurrency)
        ]
        watcher = asyncio.create_task(self._watch(scenario, concurrency, window, samples))
        try:
            await asyncio.gather(*workers)
        finally:
            watcher.cancel()
        result = summarise(scenario.name, concurrency, samples, window)
        self._progress.done(
            f"{scenario.name:>15} c={concurrency:<3} {result.throughput_rps:8.1f} req/s  "
            f"p50 {result.p50_ms} ms  errors {sum(result.errors.values())}"
        )
        return result

    async def _worker(
        self,
        scenario: Scenario,
        counter: Iterator[int],
        deadline: float,
        samples: list[tuple[Sample, str]],
    ) -> None:
        while time.perf_counter() < deadline:
            call = scenario.call(next(counter))
            samples.append((await self._send(call), call.kind))

    async def _send(self, call: Call) -> Sample:
        sample, response = await send(self._client, call)
        if call.kind == "enroll" and response is not None and response.status == 201:
            self.created_people.append(int(response.json()["id"]))
        return sample

    async def _watch(
        self,
        scenario: Scenario,
        concurrency: int,
        window: tuple[float, float],
        samples: list[tuple[Sample, str]],
    ) -> None:
        begin, end = window
        total = end - begin
        while True:
            await asyncio.sleep(0.5)
            now = time.perf_counter()
            done = [s for s, _ in samples if s.finished >= begin]
            errors = sum(1 for s in done if s.outcome != "ok")
            elapsed = max(now - begin, 1e-9)
            phase = "warm-up" if now < begin else f"{min(elapsed, total):4.1f}/{total:.0f} s"
            rate = (len(done) - errors) / elapsed if now >= begin else 0.0
            self._progress.update(
                f"{scenario.name:>15} c={concurrency:<3} {phase}  {len(done)} done  "
                f"{errors} errors  {rate:.1f} req/s"
            )


async def send(client: BenchClient, call: Call) -> tuple[Sample, Reply | None]:
    """One timed request; the outcome is "ok", the status code, or the exception's name."""
    started = time.perf_counter()
    try:
        response = await client.request(call.method, call.path, call.body, call.params)
    except TRANSPORT_ERRORS as exc:
        return Sample(started, time.perf_counter(), type(exc).__name__), None
    outcome = "ok" if response.ok else str(response.status)
    return Sample(started, time.perf_counter(), outcome), response

"""Server throughput against the bare pipeline's, in alternating windows.

The ceiling is measured before the load test, minutes before the higher concurrency levels
run; on a host whose speed drifts (a shared VM) that alone moved "of ceiling" at 8 clients
between 72% and 99% on unchanged code. Here the bare pipeline (one single-thread process
per core, as for the ceiling) and the server at a fixed concurrency take turns, window by
window, so both see the same stretch of the machine's speed; every other round the server
goes first (bare-server, server-bare, ...), so a steady drift within rounds cancels too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facebank.bench.ceiling import Engine, bare_engine, measure_throughput
from facebank.bench.loadgen import LoadGenerator
from facebank.bench.progress import Progress
from facebank.bench.scenarios import Scenario


@dataclass(frozen=True)
class PairedThroughput:
    concurrency: int
    rounds: int
    bare_ips: list[float]  # per round, images/s of all bare processes together
    server_rps: list[float]  # per round, successful requests/s
    errors: int
    fraction: float  # sum(server) / sum(bare): equal windows, so the mean of the rates

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


async def measure_paired_throughput(
    generator: LoadGenerator,
    scenario: Scenario,
    folder: Path,
    processes: int,
    concurrency: int,
    rounds: int,
    duration_s: float,
    warmup_s: float,
    progress: Progress,
    engine: Engine = bare_engine,
) -> PairedThroughput:
    bare: list[float] = []
    server: list[float] = []
    errors = 0
    for n in range(rounds):
        for side in ("bare", "server") if n % 2 == 0 else ("server", "bare"):
            label = engine.__name__.removesuffix("_engine") if side == "bare" else side
            progress.update(f"paired throughput round {n + 1}/{rounds}: {label} ...")
            if side == "bare":
                # In a thread: the spawned processes take seconds to load; the loop stays free.
                _, rate = await asyncio.to_thread(
                    measure_throughput, folder, processes, duration_s, engine
                )
                bare.append(round(rate, 2))
            else:
                level = await generator.run_level(scenario, concurrency, warmup_s, duration_s)
                server.append(level.throughput_rps)
                errors += sum(level.errors.values())
    return PairedThroughput(
        concurrency=concurrency,
        rounds=rounds,
        bare_ips=bare,
        server_rps=server,
        errors=errors,
        fraction=round(sum(server) / sum(bare), 3),
    )

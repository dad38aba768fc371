"""`--vs-stock`: the server against insightface's stock pipeline, paired so drift cancels.

The same two paired measurements as the bare pipeline's (paired.py, paired_throughput.py),
with the stock engine on the other side: single-image latency with every core on one
image, alternating photo by photo with the server at concurrency 1; throughput of one
single-thread stock process per core, alternating window by window with the server at the
paired concurrency. And the embeddings of both for the same faces (stock_embeddings.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from facebank.bench.client import BenchClient
from facebank.bench.loadgen import LoadGenerator
from facebank.bench.paired import PairedLatency, measure_paired
from facebank.bench.paired_throughput import PairedThroughput, measure_paired_throughput
from facebank.bench.photos import PhotoSet
from facebank.bench.progress import Progress
from facebank.bench.scenarios import Call, Scenario
from facebank.bench.stock import STOCK_DET_SIZE, stock_engine, stock_version
from facebank.bench.stock_embeddings import EmbeddingCheck, check_embeddings


@dataclass
class StockComparison:
    processes: int  # single-thread stock processes for throughput
    latency_threads: int  # ORT threads of the stock latency process
    embeddings: EmbeddingCheck | None = None
    latency: PairedLatency | None = None  # "bare" in it is the stock pipeline
    throughput: PairedThroughput | None = None

    def as_dict(self) -> dict[str, Any]:
        t, lat, e = self.throughput, self.latency, self.embeddings
        return {
            "stock": stock_version(),
            "stock_det_size": STOCK_DET_SIZE[0],
            "stock_processes": self.processes,
            "stock_latency_threads": self.latency_threads,
            "throughput_concurrency": t.concurrency if t else None,
            "throughput_ratio_vs_stock": t.fraction if t else None,
            "stock_images_per_s": round(sum(t.bare_ips) / t.rounds, 2) if t else None,
            "server_requests_per_s": round(sum(t.server_rps) / t.rounds, 2) if t else None,
            "p50_ratio_vs_stock": lat.ratio if lat else None,
            "stock_p50_ms": lat.bare_p50_ms if lat else None,
            "server_p50_ms": lat.server_p50_ms if lat else None,
            "embedding_min_cosine_vs_stock": e.min_cosine if e else None,
            "embedding_faces_compared": e.faces_compared if e else None,
            "embeddings_equal_stock": e.equal if e else None,
            "embedding_check": e.as_dict() if e else None,
            "paired_latency": lat.as_dict() if lat else None,
            "paired_throughput": t.as_dict() if t else None,
        }


async def measure_embeddings(
    comparison: StockComparison, single: PhotoSet, progress: Progress
) -> None:
    progress.done(
        f"vs stock: embeddings of facebank and {stock_version()} on the same "
        f"{len(single.photos)} photos ..."
    )
    comparison.embeddings = await asyncio.to_thread(
        check_embeddings, single.folder, comparison.latency_threads
    )


async def measure_latency_vs_stock(
    comparison: StockComparison,
    client: BenchClient,
    single: PhotoSet,
    calls: Sequence[Call],
    passes: int,
    progress: Progress,
) -> None:
    progress.done(
        f"vs stock: paired latency, stock ({comparison.latency_threads} threads) and server "
        f"alternately, {len(single.photos)} photos x {passes} passes after a warm-up pass ..."
    )
    comparison.latency = await measure_paired(
        client, single.photos, calls, comparison.latency_threads, passes, stock_engine
    )


async def measure_throughput_vs_stock(
    comparison: StockComparison,
    generator: LoadGenerator,
    recognize: Scenario,
    single: PhotoSet,
    concurrency: int,
    rounds: int,
    durations: tuple[float, float],  # (measured, warm-up) seconds per window
    progress: Progress,
) -> None:
    progress.done(
        f"vs stock: paired throughput, {comparison.processes} stock processes and the server "
        f"at concurrency {concurrency} alternately, {rounds} rounds ..."
    )
    comparison.throughput = await measure_paired_throughput(
        generator,
        recognize,
        single.folder,
        comparison.processes,
        concurrency,
        rounds,
        durations[0],
        durations[1],
        progress,
        stock_engine,
    )

"""One benchmark run: ceiling (optional), seeding, every scenario at every concurrency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from facebank.bench.ceiling import measure_ceiling
from facebank.bench.client import BenchClient
from facebank.bench.loadgen import LoadGenerator
from facebank.bench.paired import PairedLatency, measure_paired
from facebank.bench.paired_throughput import PairedThroughput, measure_paired_throughput
from facebank.bench.photos import PhotoSet, load_photo_set
from facebank.bench.progress import Progress
from facebank.bench.report import BenchReport
from facebank.bench.scenarios import Call, Scenario, build_scenarios, recognize_calls
from facebank.bench.seed import delete_people, seed_identities, sweep_enrolled
from facebank.bench.vs_stock import (
    StockComparison,
    measure_embeddings,
    measure_latency_vs_stock,
    measure_throughput_vs_stock,
)
from facebank.config import Settings
from facebank.pipeline.factory import wide_lane_threads


@dataclass(frozen=True)
class BenchOptions:
    url: str
    api_key: str | None
    photos: Path
    groups: Path | None
    scenarios: list[str]
    concurrency: list[int]
    duration_s: float
    warmup_s: float
    ceiling: bool
    ceiling_duration_s: float
    latency_rounds: int
    paired_concurrency: int = 8
    paired_rounds: int = 4  # 0: no paired throughput
    vs_stock: bool = False  # also pair the server with insightface's stock FaceAnalysis


async def run_bench(options: BenchOptions, settings: Settings, progress: Progress) -> BenchReport:
    single = load_photo_set(options.photos.name, options.photos)
    groups = _group_set(options)
    headers = {"X-API-Key": options.api_key} if options.api_key else {}
    top = max(options.concurrency)
    async with BenchClient(options.url, headers, connections=top, timeout_s=120.0) as client:
        report = BenchReport(options.url, await _server_info(client), _settings(options, single))
        if options.ceiling:
            _measure_ceilings(report, options, settings, single, groups, progress)
        if options.vs_stock:
            report.vs_stock = StockComparison(settings.cpu_count, settings.cpu_count)
            await measure_embeddings(report.vs_stock, single, progress)
        progress.done("seeding: one enrolled person per identity ...")
        person_ids = await seed_identities(client, single)
        scenarios = build_scenarios(single, groups, person_ids, options.scenarios)
        recognize = next((s for s in scenarios if s.name == "recognize"), None)
        calls = recognize.calls["recognize"] if recognize else recognize_calls(single)
        if options.ceiling and 1 in options.concurrency:
            report.paired = await _measure_paired(
                client, options, settings, single, calls, progress
            )
        if report.vs_stock is not None:
            await measure_latency_vs_stock(
                report.vs_stock, client, single, calls, _paired_passes(options), progress
            )
        generator = LoadGenerator(client, progress)
        try:
            for scenario in scenarios:
                for level in options.concurrency:
                    result = await generator.run_level(
                        scenario, level, options.warmup_s, options.duration_s
                    )
                    report.compare(result, scenario.photo_set)
                    report.levels.append(result)
                    await delete_people(client, generator.created_people)
            if options.ceiling and options.paired_rounds > 0 and recognize is not None:
                report.paired_throughput = await _measure_paired_throughput(
                    generator, recognize, options, settings, single, progress
                )
            if report.vs_stock is not None and options.paired_rounds > 0 and recognize:
                await measure_throughput_vs_stock(
                    report.vs_stock,
                    generator,
                    recognize,
                    single,
                    options.paired_concurrency,
                    options.paired_rounds,
                    (options.ceiling_duration_s, options.warmup_s),
                    progress,
                )
        finally:
            await sweep_enrolled(client)
    return report


def _group_set(options: BenchOptions) -> PhotoSet | None:
    if options.groups is None or "recognize-group" not in options.scenarios:
        return None
    return load_photo_set(options.groups.name, options.groups)


def _measure_ceilings(
    report: BenchReport,
    options: BenchOptions,
    settings: Settings,
    single: PhotoSet,
    groups: PhotoSet | None,
    progress: Progress,
) -> None:
    sets = {single.name: single}
    if groups is not None:
        sets[groups.name] = groups
    for name, photo_set in sets.items():
        progress.done(
            f"ceiling: bare pipeline on '{name}' ({len(photo_set.photos)} photos), "
            f"{settings.cpu_count} processes x {options.ceiling_duration_s:g} s, then latency ..."
        )
        report.ceilings[name] = measure_ceiling(
            name, photo_set.folder, settings, options.ceiling_duration_s, options.latency_rounds
        )


async def _measure_paired(
    client: BenchClient,
    options: BenchOptions,
    settings: Settings,
    single: PhotoSet,
    calls: Sequence[Call],
    progress: Progress,
) -> PairedLatency:
    threads = wide_lane_threads(settings)
    passes = _paired_passes(options)
    progress.done(
        f"paired latency: bare pipeline and server alternately, {len(single.photos)} photos "
        f"x {passes} passes after a warm-up pass ..."
    )
    return await measure_paired(client, single.photos, calls, threads, passes)


def _paired_passes(options: BenchOptions) -> int:
    return max(options.latency_rounds - 1, 1)


async def _measure_paired_throughput(
    generator: LoadGenerator,
    recognize: Scenario,
    options: BenchOptions,
    settings: Settings,
    single: PhotoSet,
    progress: Progress,
) -> PairedThroughput:
    progress.done(
        f"paired throughput: bare pipeline and server at concurrency "
        f"{options.paired_concurrency} alternately, {options.paired_rounds} rounds ..."
    )
    return await measure_paired_throughput(
        generator,
        recognize,
        single.folder,
        settings.cpu_count,
        options.paired_concurrency,
        options.paired_rounds,
        options.ceiling_duration_s,
        options.warmup_s,
        progress,
    )


async def _server_info(client: BenchClient) -> dict[str, object]:
    response = await client.get("/health")
    body = response.json() if response.content_type.startswith("application/json") else {}
    return {"health_status": response.status, **body}


def _settings(options: BenchOptions, single: PhotoSet) -> dict[str, object]:
    return {
        "scenarios": options.scenarios,
        "concurrency": options.concurrency,
        "duration_s": options.duration_s,
        "warmup_s": options.warmup_s,
        "photos": str(options.photos),
        "photo_count": len(single.photos),
        "groups": str(options.groups) if options.groups else None,
    }

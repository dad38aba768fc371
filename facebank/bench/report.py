"""The benchmark's results: a printed table and a JSON document."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from facebank.bench.ceiling import Ceiling
from facebank.bench.paired import PairedLatency
from facebank.bench.paired_throughput import PairedThroughput
from facebank.bench.stats import LevelResult
from facebank.bench.vs_stock import StockComparison


@dataclass
class BenchReport:
    url: str
    server: dict[str, Any]
    settings: dict[str, Any]
    ceilings: dict[str, Ceiling] = field(default_factory=dict)
    levels: list[LevelResult] = field(default_factory=list)
    paired: PairedLatency | None = None  # server vs bare single-image latency, interleaved
    paired_throughput: PairedThroughput | None = None  # server vs bare throughput, interleaved
    vs_stock: StockComparison | None = None  # server vs insightface's FaceAnalysis
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def compare(self, result: LevelResult, photo_set: str) -> None:
        """Fill in the result's fractions of the bare pipeline measured on its photos."""
        ceiling = self.ceilings.get(photo_set)
        if ceiling is None:
            return
        result.ceiling_fraction = round(result.throughput_rps / ceiling.throughput_ips, 3)
        if result.p50_ms is not None:
            result.latency_vs_bare = round(result.p50_ms / ceiling.latency_p50_ms, 3)

    def as_dict(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at,
            "url": self.url,
            "machine": machine(),
            "server": self.server,
            "settings": self.settings,
            "ceilings": {name: c.as_dict() for name, c in self.ceilings.items()},
            "levels": [level.as_dict() for level in self.levels],
            "paired": self.paired.as_dict() if self.paired else None,
            "paired_throughput": (
                self.paired_throughput.as_dict() if self.paired_throughput else None
            ),
            "vs_stock": self.vs_stock.as_dict() if self.vs_stock else None,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_dict(), indent=2) + "\n")


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_table(report: BenchReport) -> str:
    lines = []
    for name, c in report.ceilings.items():
        lines.append(
            f"bare pipeline on '{name}' ({c.processes} single-thread processes): "
            f"{c.throughput_ips:.1f} images/s; one image with {c.latency_ort_threads} threads: "
            f"p50 {c.latency_p50_ms:.1f} ms, p95 {c.latency_p95_ms:.1f} ms"
        )
    if report.paired is not None:
        p = report.paired
        lines.append(
            f"paired single-image latency ({p.photos} photos x {p.passes}, bare and server "
            f"alternately, so host drift cancels): bare p50 {p.bare_p50_ms:.1f} ms, "
            f"server p50 {p.server_p50_ms:.1f} ms at concurrency 1 = {p.ratio:.2f}x, "
            f"errors {p.errors}"
        )
    header = (
        f"{'scenario':<16}{'c':>4}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}{'of ceiling':>12}{'p50/bare':>10}"
    )
    lines += ["", header, "-" * len(header)]
    for r in report.levels:
        lines.append(
            f"{r.scenario:<16}{r.concurrency:>4}{r.throughput_rps:>9.1f}{_ms(r.p50_ms)}"
            f"{_ms(r.p95_ms)}{_ms(r.p99_ms)}{sum(r.errors.values()):>8}"
            f"{_pct(r.ceiling_fraction):>12}{_ratio(r.latency_vs_bare):>10}"
        )
    if report.ceilings and report.levels:
        lines.append(
            "of ceiling and p50/bare compare with the bare pipeline measured before the load "
            "test;\na host whose speed drifts moves them (the paired lines do not drift)."
        )
    if report.paired_throughput is not None:
        lines += ["", _paired_throughput_line(report.paired_throughput)]
    if report.vs_stock is not None:
        lines += ["", *_vs_stock_lines(report.vs_stock)]
    return "\n".join(lines)


def _vs_stock_lines(comparison: StockComparison) -> list[str]:
    d = comparison.as_dict()
    lines = [f"vs stock {d['stock']} FaceAnalysis (same model files, det_size 640, paired):"]
    if d["throughput_ratio_vs_stock"] is not None:
        lines.append(
            f"  throughput at concurrency {d['throughput_concurrency']}: stock "
            f"{d['stock_images_per_s']:.1f} images/s ({d['stock_processes']} single-thread "
            f"processes), server {d['server_requests_per_s']:.1f} req/s = "
            f"{d['throughput_ratio_vs_stock']:.2f}x stock"
        )
    if d["p50_ratio_vs_stock"] is not None:
        lines.append(
            f"  single-image p50: stock {d['stock_p50_ms']:.1f} ms "
            f"({d['stock_latency_threads']} threads), server {d['server_p50_ms']:.1f} ms at "
            f"concurrency 1 = {d['p50_ratio_vs_stock']:.2f}x stock"
        )
    e = comparison.embeddings
    if e is not None:
        verdict = "equal" if e.equal else f"NOT equal (lowest on {e.min_cosine_photo})"
        lines.append(
            f"  embeddings: {e.faces_compared} faces compared, min cosine {e.min_cosine}, "
            f"{verdict} at >= 0.999; {e.faces_unpaired} faces found by one side only"
        )
    return lines


def _paired_throughput_line(p: PairedThroughput) -> str:
    rounds = ", ".join(
        f"{s / b * 100:.0f}%" if b else "-" for s, b in zip(p.server_rps, p.bare_ips, strict=True)
    )
    return (
        f"paired throughput at concurrency {p.concurrency} ({p.rounds} rounds, bare pipeline "
        f"and server alternately): bare {sum(p.bare_ips) / p.rounds:.1f} images/s, server "
        f"{sum(p.server_rps) / p.rounds:.1f} req/s = {_pct(p.fraction)} of ceiling "
        f"(rounds {rounds}), errors {p.errors}"
    )


def _ms(value: float | None) -> str:
    return f"{value:>9.1f}" if value is not None else f"{'-':>9}"


def _pct(value: float | None) -> str:
    return f"{value * 100:.0f}%" if value is not None else "-"


def _ratio(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "-"

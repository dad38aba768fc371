"""Throughput and latency against concurrency, one line per scenario, as a PNG."""

from __future__ import annotations

from pathlib import Path

from facebank.bench.report import BenchReport


def draw(report: BenchReport, path: Path) -> None:
    import matplotlib  # deferred: only the bench draws, and the import is slow

    matplotlib.use("Agg")  # no display on a server
    import matplotlib.pyplot as plt

    fig, (thr_ax, lat_ax) = plt.subplots(1, 2, figsize=(12, 4.8))
    scenarios = sorted({r.scenario for r in report.levels})
    for name in scenarios:
        rows = sorted((r for r in report.levels if r.scenario == name), key=lambda r: r.concurrency)
        levels = [r.concurrency for r in rows]
        thr_ax.plot(levels, [r.throughput_rps for r in rows], marker="o", label=name)
        for pct, style in (("p50_ms", "-"), ("p95_ms", "--"), ("p99_ms", ":")):
            values = [getattr(r, pct) for r in rows]
            lat_ax.plot(levels, values, style, marker="o", label=f"{name} {pct[:3]}")
    for name, ceiling in report.ceilings.items():
        thr_ax.axhline(ceiling.throughput_ips, color="grey", linestyle="--",
                       label=f"bare pipeline ceiling ({name})")  # fmt: skip
        lat_ax.axhline(ceiling.latency_p50_ms, color="grey", linestyle="--",
                       label=f"bare single-image p50 ({name})")  # fmt: skip
    stock = report.vs_stock.as_dict() if report.vs_stock else {}
    if stock.get("stock_images_per_s") is not None:
        thr_ax.axhline(stock["stock_images_per_s"], color="tab:red", linestyle="-.",
                       label=f"stock {stock['stock']} (paired)")  # fmt: skip
    if stock.get("stock_p50_ms") is not None:
        lat_ax.axhline(stock["stock_p50_ms"], color="tab:red", linestyle="-.",
                       label="stock single-image p50 (paired)")  # fmt: skip
    levels = sorted({r.concurrency for r in report.levels})
    _style(thr_ax, "throughput (requests/s)", "Throughput", levels)
    _style(lat_ax, "latency (ms)", "Latency", levels)
    cpu = report.as_dict()["machine"]
    fig.suptitle(
        f"facebank bench — {cpu['cpu_count']} x {cpu['cpu_model']}, {report.url}", fontsize=10
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _style(ax: object, ylabel: str, title: str, levels: list[int]) -> None:
    from matplotlib.axes import Axes
    from matplotlib.ticker import ScalarFormatter

    assert isinstance(ax, Axes)
    ax.set_xscale("log", base=2)
    if levels:  # label the measured levels as plain numbers, not powers of two
        ax.set_xticks(levels)
        ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.set_xlabel("concurrent clients")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)

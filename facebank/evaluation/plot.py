"""`facebank eval --png`: the same- and different-person score distributions of each
dataset, with the threshold, and optionally an earlier run's as dashed lines (before and
after a pipeline change). Needs matplotlib (the `bench` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on a server

import matplotlib.pyplot as plt


def plot_reports(
    reports: list[dict[str, Any]], png: Path, before: list[dict[str, Any]] | None = None
) -> None:
    """One panel per dataset: pair-score histograms (share of pairs per 0.02 bin, log
    scale, since different pairs outnumber same ones ~17 to 1), the threshold as a line."""
    earlier = {r["dataset"]: r for r in before or []}
    fig, axes = plt.subplots(len(reports), 1, figsize=(8, 3.2 * len(reports)), squeeze=False)
    for axis, report in zip(axes[:, 0], reports, strict=True):
        _panel(axis, report, "after" if earlier else "")
        if report["dataset"] in earlier:
            _panel(axis, earlier[report["dataset"]], "before", dashed=True)
        threshold = report["verification"]["threshold"]
        axis.axvline(threshold, color="black", linewidth=0.8)
        axis.text(threshold, axis.get_ylim()[1], f" {threshold}", va="top", fontsize=8)
        axis.set_title(f"{Path(report['dataset']).name}: {report['photos']} photos", fontsize=10)
        axis.set_yscale("log")
        axis.set_ylabel("share of pairs")
        axis.legend(fontsize=8)
    axes[-1, 0].set_xlabel("cosine score")
    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def _panel(axis: Any, report: dict[str, Any], label: str, dashed: bool = False) -> None:
    histogram = report.get("histogram")
    if histogram is None:  # a report from before histograms were recorded
        return
    edges = histogram["edges"]
    style = "--" if dashed else "-"
    for kind, color in (("same", "tab:green"), ("different", "tab:red")):
        counts = histogram[kind]
        total = max(1, sum(counts))
        axis.stairs(
            [c / total for c in counts], edges, color=color, linestyle=style,
            label=f"{kind} person {label}".strip(),
        )  # fmt: skip

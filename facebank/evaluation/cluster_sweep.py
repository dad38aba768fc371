"""`facebank eval-clusters`: linking rules tried on sets of unknown faces, several arrival
orders each, scored against the true identities (facebank.evaluation.cluster_metrics)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from facebank.evaluation.cluster_metrics import ClusterScores, score_clusters
from facebank.evaluation.clusters import UnknownFace, arrival_orders, cluster_in_order
from facebank.index.unknown_linker import LinkRule

# The grid --sweep tries: links from well below the real different-person scores (0.29)
# to above the lowest same-person ones (0.36-0.41), and 1 (single linkage) to 4 links.
SWEEP_LINKS = tuple(round(0.25 + 0.025 * i, 3) for i in range(15))  # 0.25 .. 0.60
SWEEP_MIN_LINKS = (1, 2, 3, 4)
AVERAGED = (
    "purity", "completeness", "pair_precision", "pair_recall", "bcubed_precision",
    "bcubed_recall", "bcubed_f", "clusters", "singletons", "exact", "with_unlabelled",
)  # fmt: skip


@dataclass(frozen=True)
class FaceSet:
    name: str
    faces: list[UnknownFace]


def sweep_rules(
    links: Sequence[float], min_links: Sequence[int], neighbours: int
) -> list[LinkRule]:
    return [LinkRule(link, m, neighbours) for m in min_links for link in links]


def measure(
    rules: Sequence[LinkRule], sets: Sequence[FaceSet], orders: int
) -> list[dict[str, Any]]:
    """One row per rule: per set, each figure averaged over the orders, and the worst F."""
    order_lists = {s.name: arrival_orders(len(s.faces), orders) for s in sets}
    return [
        {"link": rule.link, "min_links": rule.min_links, "neighbours": rule.neighbours,
         "sets": {s.name: _over_orders(rule, s, order_lists[s.name]) for s in sets}}
        for rule in rules
    ]  # fmt: skip


def _over_orders(rule: LinkRule, face_set: FaceSet, orders: list[list[int]]) -> dict[str, Any]:
    truth = [f.label for f in face_set.faces]
    runs: list[ClusterScores] = [
        score_clusters(truth, cluster_in_order(rule, face_set.faces, order)) for order in orders
    ]
    row: dict[str, Any] = {
        key: round(statistics.fmean(getattr(r, key) for r in runs), 4) for key in AVERAGED
    }
    row["identities"] = runs[0].identities
    row["faces"] = runs[0].faces
    row["worst_bcubed_f"] = round(min(r.bcubed_f for r in runs), 4)
    return row


def overall(row: dict[str, Any]) -> float:
    """A rule's score: its BCubed F averaged over the sets (and orders)."""
    return statistics.fmean(s["bcubed_f"] for s in row["sets"].values())


def best_rule(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The highest score; among ties, the median tied link of the min_links with the most tied
    links (on these data a contiguous plateau: a rule in its middle is the least sensitive)."""
    top = max(overall(r) for r in rows)
    tied = [r for r in rows if overall(r) >= top - 1e-9]
    groups: dict[int, list[dict[str, Any]]] = {}
    for row in tied:
        groups.setdefault(row["min_links"], []).append(row)
    widest = max(groups.values(), key=lambda g: (len(g), -g[0]["min_links"]))
    widest.sort(key=lambda r: r["link"])
    return widest[(len(widest) - 1) // 2]


CELL = (
    "{bcubed_f:.3f} {worst_bcubed_f:.3f} {purity:.3f} {completeness:.3f} {found:>9} "
    "{singletons:5.1f} {with_unlabelled:5.3f}"
)
CELL_HEADER = "    F worst purity compl. clusters single w/unl"


def format_rows(rows: Sequence[dict[str, Any]]) -> str:
    """A row per rule, a column group per set: figures averaged over the orders, `worst` the
    lowest order's F, `clusters` found / identities, `w/unl` with_unlabelled."""
    names = list(rows[0]["sets"])
    width = len(CELL_HEADER)
    lines = [" " * 12 + " | ".join(f"{n:^{width}}" for n in names),
             "link  min | " + " | ".join(CELL_HEADER for _ in names)]  # fmt: skip
    lines.insert(2, "-" * len(lines[1]))
    for row in rows:
        cells = [_cell(row["sets"][n]) for n in names]
        lines.append(f"{row['link']:.3f} {row['min_links']:>3} | " + " | ".join(cells))
    return "\n".join(lines)


def _cell(s: dict[str, Any]) -> str:
    found = f"{s['clusters']:.1f}/{s['identities']}"
    return CELL.format(found=found, **{k: v for k, v in s.items() if k != "clusters"})

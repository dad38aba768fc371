"""`facebank eval-clusters ROOT...`: the unknown-face clustering measured on folder-per-person
photos, every photo taken as an unknown arriving in random orders (docs/clusters.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from facebank.config import Settings
from facebank.index.unknown_linker import DEFAULT_LINK, DEFAULT_MIN_LINKS, DEFAULT_NEIGHBOURS


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "eval-clusters", help="measure the unknown-face clustering on folders of identities"
    )
    parser.add_argument("datasets", nargs="+", type=Path, help="<root>/<identity>/<photo>")
    parser.add_argument(
        "--link",
        type=_floats,
        default=[DEFAULT_LINK],
        help=f"cosine that makes two faces neighbours ({DEFAULT_LINK}; "
        "comma-separated: each is tried)",
    )
    parser.add_argument(
        "--min-links",
        type=_ints,
        default=[DEFAULT_MIN_LINKS],
        help=f"links into a cluster needed to join it ({DEFAULT_MIN_LINKS}; "
        "comma-separated: each is tried)",
    )
    parser.add_argument(
        "--neighbours",
        type=int,
        default=DEFAULT_NEIGHBOURS,
        help=f"nearest faces looked at ({DEFAULT_NEIGHBOURS})",
    )
    parser.add_argument(
        "--sweep",
        action="store_true",
        help="try the grid of links and min-links instead, report the best",
    )
    parser.add_argument("--orders", type=int, default=5, help="random arrival orders (5)")
    parser.add_argument(
        "--unlabelled",
        type=Path,
        action="append",
        default=[],
        help="a folder whose photos' every face joins each set, unscored "
        "(e.g. ../shared/faces/group_photos; repeatable)",
    )
    parser.add_argument(
        "--distractors",
        type=int,
        default=0,
        help="synthetic strangers added to each set, unscored (as bench-index "
        "makes them; slow: 10,000 take ~10 s per rule and order)",
    )
    parser.add_argument("--json", type=Path, help="also write the full report here")
    parser.set_defaults(handler=run)  # fmt: skip


def run(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.evaluation import cluster_data as data
    from facebank.evaluation import cluster_sweep as sweep
    from facebank.pipeline.factory import build_pipeline

    if args.orders < 1 or min(args.min_links) < 1 or args.neighbours < 1 or args.distractors < 0:
        raise SystemExit("--orders, --min-links and --neighbours must be ≥ 1, --distractors ≥ 0")
    pipeline = build_pipeline(settings, narrow_lanes=0)  # one image at a time: wide lane only
    sets = data.labelled_sets(pipeline, args.datasets)
    extra = [face for folder in args.unlabelled for face in data.every_face(pipeline, folder)]
    extra += _distractors(sets, args.distractors)
    sets = data.with_extra(sets, extra)
    if args.sweep:
        rules = sweep.sweep_rules(sweep.SWEEP_LINKS, sweep.SWEEP_MIN_LINKS, args.neighbours)
    else:
        rules = sweep.sweep_rules(args.link, args.min_links, args.neighbours)
    rows = sweep.measure(rules, sets, args.orders)
    print(f"{len(extra)} unlabelled faces in each set; {args.orders} arrival orders per rule; "
          f"F is BCubed F (mean over orders), worst the lowest order's")  # fmt: skip
    print(sweep.format_rows(rows))
    best = sweep.best_rule(rows)
    if len(rows) > 1:
        print(f"best: link {best['link']} min_links {best['min_links']} "
              f"(mean BCubed F {sweep.overall(best):.4f})")  # fmt: skip
    if args.json:
        report = {"model_id": pipeline.model_id, "orders": args.orders,
                  "unlabelled_faces": len(extra), "distractors": args.distractors,
                  "sets": {s.name: len(s.faces) for s in sets},
                  "rules": rows, "best": best}  # fmt: skip
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def _distractors(sets: list[Any], n: int) -> list[Any]:
    if not n:
        return []
    from facebank.bench.distractors import make_distractors
    from facebank.evaluation.cluster_data import as_unlabelled, real_vectors

    vectors, cap = real_vectors(sets)
    return as_unlabelled(make_distractors(vectors, n, cap), "distractor-")


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]

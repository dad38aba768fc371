"""`facebank bench-unknowns --stored N`: clustering time per new unknown face at N stored
unknowns (facebank.bench.unknowns_bench)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from facebank.cli.index_bench import DEFAULT_WORK_DIR, seeds_model
from facebank.config import Settings


def register(commands: Any) -> None:
    from facebank.bench import unknowns_bench

    parser = commands.add_parser(
        "bench-unknowns",
        help="measure the clustering of one new unknown face at N stored unknowns",
        description=unknowns_bench.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stored", type=int, required=True, help="stored unknowns (e.g. 100000)")
    parser.add_argument("--queries", type=int, default=500, help="new faces clustered (500)")
    parser.add_argument(
        "--photos",
        type=Path,
        default=Path("../shared/faces"),
        help="the shared faces folder, with people/ and yale/",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=DEFAULT_WORK_DIR,
        help="caches embeddings and distractors (shared with bench-index)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(handler=run)  # fmt: skip


def run(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.bench import distractors, index_bench, unknowns_bench
    from facebank.bench.index_seeds import load_seeds
    from facebank.index.unknown_linker import LinkRule

    seeds = load_seeds(args.photos, args.work_dir, settings)
    stored_real = len(unknowns_bench.halves(seeds)[0])
    if args.stored <= stored_real or args.queries < 1:
        raise SystemExit(f"--stored must exceed {stored_real} (the stored real photos), "
                         "--queries must be ≥ 1")  # fmt: skip
    same, _ = distractors.pair_scores(seeds.vectors, seeds.people)
    cap = float(same.min())
    stored = index_bench.cached_distractors(
        seeds.vectors, args.stored - stored_real, cap, args.work_dir
    )
    fresh = distractors.make_distractors(
        seeds.vectors, unknowns_bench.fresh_count(args.queries), cap, unknowns_bench.FRESH_SEED
    )
    result = unknowns_bench.bench_unknowns(seeds, stored, fresh, args.queries, LinkRule())
    figures = result.as_dict()
    print(format_result(figures))
    if args.json:
        report = {"model_id": seeds_model(args.work_dir), "description": _doc(),
                  "load_average_1m": round(os.getloadavg()[0], 2), **figures}  # fmt: skip
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def format_result(r: dict[str, Any]) -> str:
    return (f"{r['stored']:,} stored unknowns, {r['queries']} new faces ({r['joined']} joined a "
            f"cluster, {r['started']} started one), rule link {r['link']} min_links "
            f"{r['min_links']} neighbours {r['neighbours']}:\n"
            f"  per new face p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms, mean "
            f"{r['per_face_ms']:.2f} ms (search p50 {r['search_p50_ms']:.2f}, assign p50 "
            f"{r['assign_p50_ms']:.3f}, add p50 {r['add_p50_ms']:.2f} ms); store built in "
            f"{r['build_s']:.1f} s")  # fmt: skip


def _doc() -> str:
    from facebank.bench import unknowns_bench

    return " ".join((unknowns_bench.__doc__ or "").split())

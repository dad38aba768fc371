"""`facebank bench-index`: search latency, rank-1 agreement with the exact scan, memory,
snapshot load and enroll time of the gallery index at the given sizes."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from facebank.config import Settings

# Outside the repo: the caches are GBs. Under the system temp dir, owned by whoever runs it.
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "facebank-bench-index"
COLUMNS = (
    ("faces", "faces", "{:d}"),
    ("kind", "kind", "{}"),
    ("p50_ms", "p50 ms", "{:.3f}"),
    ("p95_ms", "p95 ms", "{:.3f}"),
    ("flat_p50_ms", "flat p50 ms", "{:.2f}"),
    ("rank1_agreement", "rank-1 = exact", "{:.2%}"),
    ("rank1_is_mate", "rank-1 mate", "{:.2%}"),
    ("bytes_per_face", "B/face", "{:.0f}"),
    ("build_s", "build s", "{:.1f}"),
    ("save_s", "save s", "{:.2f}"),
    ("load_s", "load s", "{:.2f}"),
    ("enroll_ms", "enroll ms", "{:.2f}"),
)


def register(commands: Any) -> None:
    from facebank.bench import index_bench

    parser = commands.add_parser(
        "bench-index",
        help="measure the gallery index at N faces (real queries among distractors)",
        description=index_bench.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--faces", required=True,
                        help="gallery sizes, comma-separated (e.g. 10000,100000,1000000)")
    parser.add_argument("--photos", type=Path, default=Path("../shared/faces"),
                        help="the shared faces folder, with people/ and yale/")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help="caches embeddings and distractors (GBs at 1M), holds snapshots")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--backend", choices=("faiss", "pgvector"), default="faiss",
                        help="pgvector: an exact and an HNSW table against FAISS "
                             "(facebank/bench/index_bench_pgvector.py)")
    parser.add_argument("--vector-url", default="",
                        help="the PostgreSQL + pgvector server for --backend pgvector (it "
                             "creates and drops its own tables); default: an embedded one")
    parser.set_defaults(handler=run)  # fmt: skip


def run(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.bench import distractors, index_bench
    from facebank.bench.index_seeds import load_seeds

    sizes = [int(n) for n in args.faces.split(",")]
    seeds = load_seeds(args.photos, args.work_dir, settings)
    print(f"queries: {seeds.vectors.shape[0]} real photos of {int(seeds.people.max()) + 1} "
          f"identities, each searched with its own face left out (its other photos are mates)")
    print("distractors:", " ".join((distractors.__doc__ or "").split()))
    for faces in sizes:
        if faces <= seeds.vectors.shape[0]:
            raise SystemExit(f"--faces {faces}: must exceed the {len(seeds.names)} real photos")
    if args.backend == "pgvector":
        from facebank.cli.index_bench_pgvector import run_engine

        return run_engine(settings, args, seeds, sizes)
    results = []
    for faces in sizes:
        result = index_bench.bench_size(seeds, faces, args.work_dir)
        results.append(index_bench.as_dict(result))
        _print_closeness(result.faces, result.closeness)
        if result.rank1_misses:
            print(f"{faces} faces: rank-1 differs from exact for {', '.join(result.rank1_misses)}")
    print(format_table(results))
    if args.json:
        report = {"model_id": seeds_model(args.work_dir), "queries": len(seeds.names),
                  "distractors": " ".join((distractors.__doc__ or "").split()), "sizes": results}
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def seeds_model(work_dir: Path) -> str:
    names = sorted(p.stem.removeprefix("seeds-") for p in work_dir.glob("seeds-*.npz"))
    return names[0] if names else ""


def _print_closeness(faces: int, near: dict[str, float]) -> None:
    print(f"{faces} faces: distractor-to-query cosine max {near['distractor_query_max']:.3f}, "
          f"99.9th pct {near['distractor_query_p99_9']:.3f}; real different-person pairs "
          f"max {near['real_different_max']:.3f}, 99.9th pct {near['real_different_p99_9']:.3f}")


def format_table(
    rows: list[dict[str, Any]], columns: tuple[tuple[str, str, str], ...] = COLUMNS
) -> str:
    header = [title for _, title, _ in columns]
    body = [[fmt.format(row[key]) for key, _, fmt in columns] for row in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=True)]
    lines = [" | ".join(c.rjust(w) for c, w in zip(line, widths, strict=True))
             for line in [header, *body]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)

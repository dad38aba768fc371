"""`facebank bench`: load-test a running server and compare it with the bare pipeline."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from facebank.cli.extras import BENCH_MODULES, STOCK_MODULES, require_extra
from facebank.config import Settings

DEFAULT_FACES = Path("../shared/faces")
SCENARIOS = ("recognize", "recognize-group", "enroll", "verify", "mixed")


def register(commands: Any) -> None:
    bench = commands.add_parser(
        "bench",
        help="load-test a running server (and measure the bare pipeline's ceiling)",
        description="Load a running facebank server with concurrent clients for a fixed time "
        "per concurrency level; print and write throughput, p50/p95/p99 latency and errors. "
        "With --ceiling, first measure the bare pipeline on this machine and the same photos.",
    )
    bench.add_argument("--url", default=None, help="default http://FACEBANK_HOST:FACEBANK_PORT")
    bench.add_argument("--api-key", help="sent as X-API-Key")
    bench.add_argument(
        "--photos",
        type=Path,
        default=DEFAULT_FACES / "people",
        help="single-face photos, <dir>/<identity>/<photo> (default ../shared/faces/people)",
    )
    bench.add_argument(
        "--groups",
        type=Path,
        default=DEFAULT_FACES / "group_photos",
        help="group photos for recognize-group (default ../shared/faces/group_photos)",
    )
    bench.add_argument(
        "--scenarios",
        default="recognize",
        help=f"comma list of {', '.join(SCENARIOS)}, or 'all' (default recognize)",
    )
    bench.add_argument("--concurrency", default="1,2,4,8,16", help="levels (default 1,2,4,8,16)")
    bench.add_argument("--duration", type=float, default=10.0, help="seconds per level")
    bench.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level")
    bench.add_argument(
        "--ceiling", action="store_true", help="first measure the bare pipeline's ceiling"
    )
    bench.add_argument("--ceiling-duration", type=float, default=10.0)
    bench.add_argument(
        "--latency-rounds", type=int, default=3, help="passes over the photos for bare latency"
    )
    bench.add_argument(
        "--paired-concurrency",
        type=int,
        default=8,
        help="with --ceiling: the level whose throughput is also measured alternately with "
        "the bare pipeline (default 8)",
    )
    bench.add_argument(
        "--paired-rounds", type=int, default=4, help="rounds of that (default 4; 0: skip)"
    )
    bench.add_argument(
        "--vs-stock",
        action="store_true",
        help="also measure insightface's stock FaceAnalysis on the same model files and "
        "photos, paired with the server (latency at concurrency 1, throughput at "
        "--paired-concurrency), and compare their embeddings",
    )
    bench.add_argument("--json", type=Path, default=Path("bench.json"), help="results file")
    bench.add_argument("--png", type=Path, default=Path("bench.png"), help="chart file")
    bench.set_defaults(handler=run)
    # Benches of one part, in this process; bare `facebank bench` stays the load test.
    parts = bench.add_subparsers(dest="bench_part", metavar="{restore,ui-people}")
    _register_restore(parts)
    _register_ui_people(parts)


def _register_restore(parts: Any) -> None:
    restore = parts.add_parser(
        "restore",
        help="how fast an export archive is restored into an empty SQLite gallery",
        description="Build an archive of --faces faces from real photos (replicated, each "
        "embedding slightly perturbed), restore it into a scratch SQLite gallery and report "
        "faces/s with the index built and saved.",
    )
    restore.add_argument("--faces", type=int, default=100_000)
    restore.add_argument("--faces-per-person", type=int, default=5)
    restore.add_argument("--photos", type=Path, default=DEFAULT_FACES / "people",
                         help="a folder per person whose faces are replicated")  # fmt: skip
    restore.add_argument("--workers", type=int, help="import workers for the real faces")
    restore.add_argument("--archive", type=Path,
                         help="keep the built archive here and restore it as it is on the "
                         "next run (same archive for before/after runs)")  # fmt: skip
    restore.add_argument("--json", type=Path, help="also write the result here")
    restore.set_defaults(handler=run_restore)


def _register_ui_people(parts: Any) -> None:
    ui_people = parts.add_parser(
        "ui-people",
        help="server time of the people page over N seeded people (in this process)",
        description="Seed N people (fields only) into a fresh database through the store, "
        "then time GET /ui/people and the API calls the page makes (first page sorted by "
        "name, a name search, filters, the last page): p50/p95 per request kind.",
    )
    ui_people.add_argument("--people", type=int, default=10_000, help="default 10000")
    ui_people.add_argument("--requests", type=int, default=200, help="per kind (default 200)")
    ui_people.add_argument("--search", default="nguyen", help="the name searched (default nguyen)")
    ui_people.add_argument(
        "--database-url",
        default="",
        help="a fresh, empty database to seed (default: SQLite in a temporary directory)",
    )
    ui_people.set_defaults(handler=run_ui_people)


def run_ui_people(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.bench import ui_people

    local = settings.model_copy(update={"database_url": args.database_url})
    for timing in ui_people.run(local, args.people, args.requests, args.search):
        print(timing.line())
    return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    require_extra("bench", "bench", BENCH_MODULES)
    if args.vs_stock:
        require_extra("bench --vs-stock", "bench", STOCK_MODULES)
    from facebank.bench.client import FAILURES
    from facebank.bench.plot import draw
    from facebank.bench.progress import Progress
    from facebank.bench.report import format_table
    from facebank.bench.runner import BenchOptions, run_bench

    scenarios = list(SCENARIOS) if args.scenarios == "all" else _split(args.scenarios)
    options = BenchOptions(
        url=args.url or f"http://{settings.host}:{settings.port}",
        api_key=args.api_key,
        photos=args.photos,
        groups=args.groups,
        scenarios=scenarios,
        concurrency=[int(c) for c in _split(args.concurrency)],
        duration_s=args.duration,
        warmup_s=args.warmup,
        ceiling=args.ceiling,
        ceiling_duration_s=args.ceiling_duration,
        latency_rounds=args.latency_rounds,
        paired_concurrency=args.paired_concurrency,
        paired_rounds=args.paired_rounds,
        vs_stock=args.vs_stock,
    )
    try:
        report = asyncio.run(run_bench(options, settings, Progress()))
    except FAILURES as exc:
        print(f"bench: {options.url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    report.write_json(args.json)
    draw(report, args.png)
    print(f"\nwrote {args.json} and {args.png}")
    return 0


def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    import json

    from facebank.bench.restore_speed import measure
    from facebank.models.pack import locate_model_pack

    model_id = locate_model_pack(settings.model_dir).model_id
    workers = args.workers or settings.cpu_count
    result = measure(
        settings, args.photos, args.faces, args.faces_per_person, workers, model_id, args.archive
    )
    text = json.dumps(result.as_dict(), indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")
    return 0


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]

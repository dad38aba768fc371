"""`facebank bench-follow`: /health/ready and the index follow tick at N faces, before and
after the gallery change log."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from facebank.config import Settings

# Outside the repo: a 1M-face database is GBs.
DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / "facebank-bench-follow"


def register(commands: Any) -> None:
    from facebank.bench import follow_bench

    parser = commands.add_parser(
        "bench-follow",
        help="measure readiness and the index follow tick at N faces",
        description=follow_bench.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--faces", required=True,
                        help="gallery sizes, comma-separated (e.g. 10000,1000000)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR,
                        help="holds the SQLite databases and index snapshots (GBs at 1M)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(handler=run)  # fmt: skip


def run(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.bench import follow_bench

    results = []
    for faces in (int(n) for n in args.faces.split(",")):
        result = follow_bench.as_dict(follow_bench.bench(settings, faces, args.work_dir))
        results.append(result)
        print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in result.items()))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"sizes": results}, indent=2))
    return 0

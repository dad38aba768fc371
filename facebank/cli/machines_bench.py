"""`facebank bench-machines`: the follow delay between two running servers ("machines")."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from facebank.config import Settings


def register(commands: Any) -> None:
    from facebank.bench import machines_bench

    parser = commands.add_parser(
        "bench-machines",
        help="measure how soon an enroll on one server is searchable on another",
        description=machines_bench.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--a", required=True, help="URL of the server enrolled on")
    parser.add_argument("--b", required=True, help="URL of the server that follows")
    parser.add_argument("--api-key", required=True, help="an admin key (valid on both)")
    parser.add_argument("--photo", type=Path, required=True, help="a photo with one face")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--label", default="", help="kept in the JSON, e.g. postgresql")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(handler=run)


def run(_: Settings, args: argparse.Namespace) -> int:
    from facebank.bench import machines_bench

    headers = {"X-API-Key": args.api_key}
    result = machines_bench.bench(args.a, args.b, headers, args.photo, args.rounds)
    figures = {"label": args.label, **machines_bench.as_dict(result)}
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0

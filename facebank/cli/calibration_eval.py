"""`facebank eval-calibration ROOT...`: the calibrated threshold tried on held-out strangers
(facebank.evaluation.calibration_check), on folder-per-person datasets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from facebank.config import Settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "eval-calibration", help="check the calibrated threshold against held-out strangers"
    )
    parser.add_argument("datasets", nargs="+", type=Path, help="<root>/<identity>/<photo>")
    parser.add_argument("--splits", type=int, default=20, help="random halves tried (20)")
    parser.add_argument(
        "--target-far", type=float, action="append", dest="target_fars",
        help="false-accept rate per search (repeatable; default 0.01 and 0.001)",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the full report here")
    parser.set_defaults(handler=run_eval_calibration)


def run_eval_calibration(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.evaluation.calibration_check import check_calibration, format_check
    from facebank.evaluation.runner import embed_roots
    from facebank.pipeline.factory import build_pipeline
    from facebank.services.calibration import DEFAULT_TARGET_FARS, validated_targets

    targets = validated_targets(args.target_fars or list(DEFAULT_TARGET_FARS))
    photos = embed_roots(build_pipeline(settings, narrow_lanes=0), args.datasets)
    report = check_calibration(photos, targets, args.splits)
    print(format_check(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0

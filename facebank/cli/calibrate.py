"""`facebank calibrate`: the match threshold for target false-accept rates per search,
measured from the gallery in the database; `--apply FAR` stores it for every worker."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from facebank.config import Settings
from facebank.errors import FacebankError


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "calibrate", help="recommend (and apply) a match threshold measured from the gallery"
    )
    parser.add_argument(
        "--target-far", type=float, action="append", dest="target_fars",
        help="false-accept rate per search to aim at (repeatable; default 0.01 and 0.001)",
    )  # fmt: skip
    parser.add_argument(
        "--apply", type=float, metavar="FAR", help="store the threshold for FAR for every worker"
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run_calibrate)


def run_calibrate(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.auth.clock import system_clock
    from facebank.auth.principal import system_principal
    from facebank.models.pack import locate_model_pack
    from facebank.services.audit import AuditService
    from facebank.services.calibration import DEFAULT_TARGET_FARS, build_calibration
    from facebank.store.audit import AuditRepository
    from facebank.store.db import make_engine, make_session_factory, migrate
    from facebank.store.people import FaceRepository

    model_id = locate_model_pack(settings.model_dir).model_id
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        sessions = make_session_factory(engine)
        audit = AuditService(AuditRepository(sessions), system_clock)
        service = build_calibration(settings, sessions, FaceRepository(sessions), audit, model_id)
        targets = args.target_fars or list(DEFAULT_TARGET_FARS)
        if args.apply is not None and args.apply not in targets:
            targets.append(args.apply)
        measured = service.measure(targets)
        applied = None
        if args.apply is not None:
            applied = service.apply(system_principal("cli"), args.apply)
    except FacebankError as exc:
        print(f"facebank calibrate: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    if args.json:
        body = {"measured": measured, "applied": applied}
        print(json.dumps(body, default=_plain, indent=2))
        return 0
    print(format_estimate(measured, settings.match_threshold))
    if applied is not None:
        print(f"applied threshold {applied.threshold} (target FAR {applied.target_far})")
    return 0


def format_estimate(measured: Any, default_threshold: float) -> str:
    lines = [
        f"gallery: {measured.faces} faces of {measured.people} people; "
        f"{measured.probes} best-impostor scores, {measured.excluded_pairs} pairs left out "
        f"as probably the same person (cut {measured.exclusion_cut})",
        f"highest different-person score {measured.highest_impostor}, "
        f"lowest same-person score {measured.lowest_genuine}; default threshold "
        f"{default_threshold}",
    ]
    for r in measured.recommendations:
        tar = "n/a" if r.estimated_tar is None else f"{r.estimated_tar:.2%}"
        lines.append(
            f"target FAR {r.target_far:.2%} per search: threshold {r.threshold} "
            f"(estimated TAR {tar}, {r.method})"
        )
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.__dict__

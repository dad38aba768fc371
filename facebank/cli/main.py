"""The `facebank` command: serve, migrate, eval."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from facebank.cli import (
    bench,
    calibrate,
    calibration_eval,
    cluster_eval,
    exporting,
    follow_bench,
    importing,
    index_bench,
    machines_bench,
    sessions_bench,
    unknowns_bench,
    user,
)
from facebank.cli.extras import require_extra
from facebank.config import Settings
from facebank.observability.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    handler = args.handler
    return int(handler(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facebank", description="facebank face recognition")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", help="default FACEBANK_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default FACEBANK_PORT (8000)")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (each loads the models)"
    )
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(handler=_migrate)

    evaluate = commands.add_parser("eval", help="measure accuracy on folders of identities")
    evaluate.add_argument("datasets", nargs="+", type=Path, help="<root>/<identity>/<photo>")
    evaluate.add_argument("--threshold", type=float, help="default FACEBANK_MATCH_THRESHOLD")
    evaluate.add_argument("--json", type=Path, help="also write the full report here")
    evaluate.add_argument(
        "--png", type=Path, help="plot the score distributions here (needs the bench extra)"
    )
    evaluate.add_argument(
        "--before", type=Path, help="an earlier --json report, drawn dashed in the --png plot"
    )
    evaluate.set_defaults(handler=_eval)
    bench.register(commands)
    sessions_bench.register(commands)
    index_bench.register(commands)
    follow_bench.register(commands)
    machines_bench.register(commands)
    user.register(commands)
    importing.register(commands)
    exporting.register(commands)
    calibrate.register(commands)
    calibration_eval.register(commands)
    cluster_eval.register(commands)
    unknowns_bench.register(commands)
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    # log_config=None: keep our structured logging; access_log off: the request middleware
    # writes one access line per request, with its request id.
    if args.workers > 1:
        # Each process builds its own app (and models) from the environment.
        uvicorn.run(
            "facebank.web.app:create_worker_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            log_config=None,
            access_log=False,
        )
        return 0
    from facebank.web.app import create_app

    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=False)
    return 0


def _migrate(settings: Settings, _: argparse.Namespace) -> int:
    from facebank.store.db import make_engine, migrate

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    migrate(engine)
    engine.dispose()
    print(f"database ready: {engine.url.render_as_string(hide_password=True)}")
    return 0


def _eval(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.evaluation.runner import evaluate, format_report
    from facebank.pipeline.factory import build_pipeline

    if args.png:
        require_extra("eval --png", "bench", ("matplotlib",))
    before = json.loads(args.before.read_text()) if args.before else None
    pipeline = build_pipeline(settings, narrow_lanes=0)  # one image at a time: wide lane only
    threshold = settings.match_threshold if args.threshold is None else args.threshold
    reports = [evaluate(pipeline, root, threshold) for root in args.datasets]
    for report in reports:
        print(format_report(report))
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2))
    if args.png:
        from facebank.evaluation.plot import plot_reports

        plot_reports(reports, args.png, before)
    return 0


if __name__ == "__main__":
    sys.exit(main())

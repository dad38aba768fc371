"""`facebank import SOURCE`: bulk-enroll people from a folder tree, a CSV or JSON lines.

Runs beside a serving instance on the same database (the server's index follow picks the
new faces up). Whoever runs this controls the data directory and database, so it acts as
the "system" principal, audited under the shell user's name, like `facebank user`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TextIO

from facebank.auth.principal import system_principal
from facebank.config import Settings
from facebank.errors import FacebankError
from facebank.services.import_report import REPORT_FORMATS, ImportSummary, write_report
from facebank.services.import_sources import DEFAULT_COLUMNS, read_source
from facebank.services.photos import FaceChoice

INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C
BAR_WIDTH = 30


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "import",
        help="enroll people in bulk from a folder per person, a CSV or JSON lines, "
        "or restore an export archive (.zip)",
        description="Safe to run again: people and photos already imported are skipped, "
        "so an interrupted import continues where it stopped. An export archive is "
        "restored into an empty gallery (re-embedded when it is of another model pack).",
    )
    parser.add_argument(
        "source", type=Path, help="a folder of <person>/<photo>, .csv/.jsonl, or an export .zip"
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help=f"read FIELD from COLUMN (fields: {', '.join(DEFAULT_COLUMNS)}); repeatable",
    )
    parser.add_argument(
        "--photos-dir",
        type=Path,
        help="photo paths and <external_id>/ folders are relative "
        "to this (default: the table's folder)",
    )
    parser.add_argument("--report", type=Path, default=Path("import-report.csv"))
    parser.add_argument("--report-format", choices=REPORT_FORMATS, help="default: from --report")
    parser.add_argument("--workers", type=int, help="worker processes (default: one per core)")
    parser.add_argument(
        "--face-choice", choices=[c.value for c in FaceChoice], default=FaceChoice.AUTO.value
    )
    parser.set_defaults(handler=run_import)


def run_import(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.services.export_archive import is_archive
    from facebank.services.import_setup import open_importer

    if is_archive(args.source):
        from facebank.cli.restoring import run_restore

        return run_restore(settings, args)

    summary = ImportSummary()
    report_format = args.report_format or ("json" if args.report.suffix == ".json" else "csv")
    progress = ProgressBar(sys.stderr)
    code = 0
    try:
        source = read_source(args.source, _columns(args.map), args.photos_dir)
        with open_importer(settings) as importer:
            importer.run(
                system_principal(f"cli:{getpass.getuser()}"),
                source,
                summary,
                workers=args.workers or settings.cpu_count,
                choice=FaceChoice(args.face_choice),
                progress=progress.show,
            )
    except FacebankError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to continue", file=sys.stderr)
        code = INTERRUPTED
    except BrokenProcessPool:  # a worker killed (out of memory?): what is committed stays
        print("\na worker process died: run the same command again to continue", file=sys.stderr)
        code = 1
    progress.end()
    print(summary.as_text())
    write_report(summary, args.report, report_format)
    print(f"report: {args.report} ({len(summary.skipped)} skipped)")
    return code


def _columns(pairs: list[str]) -> dict[str, str]:
    columns = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise FacebankError(f"--map takes FIELD=COLUMN, not {pair!r}")
        columns[field.strip()] = column.strip()
    return columns


class ProgressBar:
    """A bar with rate and ETA redrawn in place on a terminal; a plain line every few
    seconds otherwise (logs, CI)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._interval = 0.2 if self._tty else 5.0
        self._last = -1e9
        self._drawn = False
        self._finished = False

    def show(self, summary: ImportSummary) -> None:
        done = summary.photos_done == summary.photos_total
        if self._finished or (summary.elapsed_s - self._last < self._interval and not done):
            return
        self._finished = done
        self._last = summary.elapsed_s
        line = progress_line(summary)
        if self._tty:
            self._stream.write("\r\033[K" + line)
            self._drawn = True
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def end(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()


def progress_line(summary: ImportSummary) -> str:
    total = max(summary.photos_total, 1)
    share = summary.photos_done / total
    filled = round(BAR_WIDTH * share)
    rate = summary.steady_photos_per_s or summary.photos_per_s
    left = summary.photos_total - summary.photos_done
    eta = f"{left / rate:.0f} s" if rate > 0 else "?"
    return (
        f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {summary.photos_done}/"
        f"{summary.photos_total} photos {share:.0%}  {rate:.1f}/s  ETA {eta}  "
        f"+{summary.faces_added} faces, {len(summary.skipped)} skipped"
    )

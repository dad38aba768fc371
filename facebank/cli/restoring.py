"""`facebank import ARCHIVE.zip`: restore an export archive into an empty gallery.

Under the model pack that wrote the archive, its rows go straight in (no model work) and
the index snapshot is saved for the server's next start; under another model pack every
person is enrolled again from the archive's photos, with the import's progress and report.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from facebank.auth.principal import system_principal
from facebank.config import Settings
from facebank.errors import FacebankError
from facebank.services.import_report import ImportSummary, write_report

INTERRUPTED = 130


def run_restore(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.cli.importing import ProgressBar
    from facebank.models.pack import locate_model_pack
    from facebank.services.export_archive import read_archive
    from facebank.services.import_setup import open_restorer

    imported = ImportSummary()
    progress = ProgressBar(sys.stderr)
    try:
        # The pack's id is the recogniser file's hash: no ONNX session is built for it.
        model_id = locate_model_pack(settings.model_dir).model_id
        archive = read_archive(args.source)
        with open_restorer(settings, model_id) as restorer:
            summary = restorer.run(
                system_principal(f"cli:{getpass.getuser()}"),
                archive,
                imported,
                workers=args.workers or settings.cpu_count,
                progress=progress.show,
            )
    except FacebankError as exc:
        progress.end()
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.end()
        print("\ninterrupted: run the same command again to continue", file=sys.stderr)
        return INTERRUPTED
    progress.end()
    print(summary.as_text())
    if summary.imported is not None:  # re-embedded: the import's counts and skips
        print(summary.imported.as_text())
        report_format = args.report_format or ("json" if args.report.suffix == ".json" else "csv")
        write_report(summary.imported, args.report, report_format)
        print(f"report: {args.report} ({len(summary.imported.skipped)} skipped)")
    return 0

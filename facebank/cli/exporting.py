"""`facebank export DEST`: the whole gallery as one archive (people, faces with their
embeddings, original photos, and a manifest of counts and checksums), read from one
transaction snapshot, so it is consistent while a server keeps serving."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from facebank.config import Settings


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "export", help="write the whole gallery (people, faces, photos) to one archive"
    )
    parser.add_argument("dest", type=Path, help="the archive to write (.zip)")
    parser.set_defaults(handler=run_export)


def run_export(settings: Settings, args: argparse.Namespace) -> int:
    from facebank.models.pack import locate_model_pack
    from facebank.services.exporter import Exporter
    from facebank.store.db import make_engine, make_session_factory
    from facebank.store.media import MediaStore

    model_id = locate_model_pack(settings.model_dir).model_id
    partial = args.dest.with_name(args.dest.name + ".partial")
    engine = make_engine(settings.effective_database_url)
    try:
        exporter = Exporter(make_session_factory(engine), MediaStore(settings.media_dir), model_id)
        with partial.open("wb") as stream:
            counts = exporter.write(stream)
        os.replace(partial, args.dest)  # a reader never sees a half-written archive
    finally:
        engine.dispose()
        partial.unlink(missing_ok=True)
    print(
        f"exported {counts['people']} people, {counts['faces']} faces and "
        f"{counts['photos']} photos to {args.dest}",
        file=sys.stderr,
    )
    return 0

"""What an uploaded import archive holds, read as the importer reads a local source.

The archive is unpacked under data_dir/imports/<job id>/files; its root holds either a
folder per person, or one CSV / JSON lines table with the photos beside it (a zip of one
folder that holds those is taken as that folder). The people read from it are then
re-labelled so nothing depends on where it was unpacked:
- a person's origin (how a person without an external id is found again) becomes
  `upload:<file name>/<folder>` (or `#<name>` for a table row), so uploading the same
  archive again matches the same people, as running `facebank import` again on the same
  folder does;
- the report names photos by their path inside the archive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from facebank.errors import ValidationFailedError
from facebank.services.import_report import ImportSummary
from facebank.services.import_sources import (
    ORIGIN_KEY,
    TABLE_SUFFIXES,
    SourcePerson,
    read_source,
)

# Folders archivers add beside the content; never a person.
_NOISE = frozenset({"__MACOSX"})


@dataclass(frozen=True)
class UploadSource:
    path: Path  # the folder of people, or the table
    kind: str  # folder, csv, jsonl


def find_source(files: Path) -> UploadSource:
    """The source inside an unpacked archive, or ValidationFailedError saying what is missing."""
    root = files
    while True:
        entries = [p for p in root.iterdir() if not p.name.startswith(".") and p.name not in _NOISE]
        tables = sorted(p for p in entries if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
        if len(tables) > 1:
            names = ", ".join(p.name for p in tables)
            raise ValidationFailedError(
                f"the archive holds several tables ({names}): put one at its root", field="file"
            )
        if tables:
            suffix = tables[0].suffix.lower()
            return UploadSource(tables[0], "csv" if suffix == ".csv" else "jsonl")
        folders = [p for p in entries if p.is_dir()]
        if len(folders) == 1 and len(entries) == 1 and _holds_source(folders[0]):
            root = folders[0]  # a zip of one folder: look inside it
            continue
        if not folders:
            raise ValidationFailedError(
                "the archive holds neither a folder per person nor a .csv/.jsonl table at its root",
                field="file",
            )
        return UploadSource(root, "folder")


def _holds_source(folder: Path) -> bool:
    """Whether a lone top folder is a wrapper (of person folders or a table), not a person."""
    return any(p.is_dir() or p.suffix.lower() in TABLE_SUFFIXES for p in folder.iterdir())


def read_upload(
    files: Path, filename: str, columns: Mapping[str, str] | None
) -> tuple[UploadSource, list[SourcePerson]]:
    """The archive's source and its people, with origins that name the upload."""
    source = find_source(files)
    people = read_source(source.path, columns)
    if not people:
        raise ValidationFailedError("the archive holds no people", field="file")
    return source, [_rebased(p, files, filename) for p in people]


def _rebased(person: SourcePerson, files: Path, filename: str) -> SourcePerson:
    prefix = str(files.resolve())
    origin = person.origin
    if origin.startswith(prefix):
        origin = f"upload:{filename}{origin[len(prefix) :]}"
    fields = person.fields
    if fields is not None:
        fields = fields.model_copy(update={"metadata": {**fields.metadata, ORIGIN_KEY: origin}})
    return replace(person, origin=origin, fields=fields)


def relative_report(summary: ImportSummary, files: Path) -> ImportSummary:
    """The summary with photo paths inside the archive instead of on this server."""
    prefixes = (f"{files.resolve()}/", f"{files}/")

    def inside(path: str) -> str:
        for prefix in prefixes:
            if path.startswith(prefix):
                return path[len(prefix) :]
        return path

    skipped = [replace(item, photo=inside(item.photo)) for item in summary.skipped]
    return replace(summary, skipped=skipped)

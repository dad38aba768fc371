"""What `facebank import` reads: people and their photo paths, from a folder tree or a table.

A source is read completely before any model work (names and paths only, no photo bytes),
so the import knows its total for the progress bar and refuses bad rows up front. A row
that cannot become a person is kept as a SourcePerson with `problem` set: the importer
reports it and goes on. Every person carries an `origin` (source file or folder plus the
row's own name) stored in its metadata, which is how a person without an external id is
found again on the next run.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facebank.errors import FacebankError, ValidationFailedError
from facebank.store.people import PersonFields

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff"})
TABLE_SUFFIXES = frozenset({".csv", ".jsonl", ".ndjson"})
# The metadata key that ties a person to the source row it came from.
ORIGIN_KEY = "import_origin"
PHOTOS_FIELD = "photos"
# Column names tried for each field, in order, when --map does not name one: the
# project's own field names, then the seed system's class_info.csv layout.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "class_id"),
    "name": ("name", "ten"),
    "age": ("age", "tuoi"),
    "gender": ("gender", "gioitinh"),
    "address": ("address", "noio"),
    PHOTOS_FIELD: ("photos", "photo", "images", "image"),
}
PHOTO_SEPARATORS = (";", "|")


@dataclass(frozen=True)
class SourcePerson:
    """One person of a source: `fields` is None exactly when `problem` says why."""

    label: str  # how the report names the row: folder name or "row N"
    origin: str
    fields: PersonFields | None
    photos: tuple[Path, ...]
    problem: str | None = None

    @property
    def identity(self) -> str:
        """Two rows with the same identity are the same person (the second is a duplicate)."""
        if self.fields is not None and self.fields.external_id is not None:
            return f"external_id:{self.fields.external_id}"
        return f"origin:{self.origin}"


def read_source(
    source: Path, columns: Mapping[str, str] | None = None, photos_dir: Path | None = None
) -> list[SourcePerson]:
    """Every person of `source`: a folder per person, or a CSV / JSON lines table.

    An export archive is not a source: `facebank import` restores it (services.restore),
    and its re-embed path builds SourcePerson rows of its own (services.restore_reembed).
    """
    if source.is_dir():
        return list(_folder_people(source))
    if source.suffix.lower() in TABLE_SUFFIXES and source.is_file():
        base = photos_dir if photos_dir is not None else source.parent
        return list(_table_people(source, _column_map(columns or {}), base))
    if not source.exists():
        raise ValidationFailedError(f"{source} does not exist", field="source")
    raise ValidationFailedError(
        f"{source}: not a folder, .csv, .jsonl or .ndjson",
        field="source",
    )


def photo_files(folder: Path) -> tuple[Path, ...]:
    """A folder's photos by file name; other files (notes, hidden files) are not photos."""
    return tuple(
        sorted(
            p
            for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in PHOTO_SUFFIXES
        )
    )


# --- a folder per person ---------------------------------------------------------------------


def _folder_people(root: Path) -> Iterator[SourcePerson]:
    base = root.resolve()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        origin = f"{base}/{folder.name}"
        values = {"name": folder.name.replace("_", " ").strip()}
        yield _person(folder.name, origin, values, {}, photo_files(folder))


# --- a table: CSV or JSON lines ----------------------------------------------------------------


def _column_map(overrides: Mapping[str, str]) -> dict[str, tuple[str, ...]]:
    unknown = set(overrides) - set(DEFAULT_COLUMNS)
    if unknown:
        raise ValidationFailedError(
            f"cannot map {sorted(unknown)}; fields are {sorted(DEFAULT_COLUMNS)}", field="map"
        )
    return {
        field: (overrides[field],) if field in overrides else names
        for field, names in DEFAULT_COLUMNS.items()
    }


def _table_people(
    table: Path, columns: dict[str, tuple[str, ...]], photos_dir: Path
) -> Iterator[SourcePerson]:
    origin_base = str(table.resolve())
    for number, row in _rows(table):
        label = f"row {number}"
        if isinstance(row, str):  # a line that is not a JSON object
            yield SourcePerson(label, f"{origin_base}#{number}", None, (), row)
            continue
        values, extra = _split_row(row, columns)
        origin = f"{origin_base}#{values.get('name', '')}"
        photos = _row_photos(values.pop(PHOTOS_FIELD, None), values.get("external_id"), photos_dir)
        yield _person(label, origin, values, extra, photos)


def _rows(table: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(row number as a spreadsheet shows it, row) pairs; a broken JSON line is a string."""
    with table.open(newline="", encoding="utf-8-sig") as handle:
        if table.suffix.lower() == ".csv":
            for number, row in enumerate(csv.DictReader(handle), start=2):
                yield number, {k: v for k, v in row.items() if k is not None}
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"not JSON: {exc.msg}"
                continue
            yield number, parsed if isinstance(parsed, dict) else "not a JSON object"


def _split_row(
    row: Mapping[str, Any], columns: dict[str, tuple[str, ...]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(mapped field values, the other non-empty columns for the person's metadata)."""
    values: dict[str, Any] = {}
    used: set[str] = set()
    for field, names in columns.items():
        name = next((n for n in names if n in row), None)
        if name is not None:
            used.add(name)
            values[field] = _blank_to_none(row[name])
    extra = {k: v for k, v in row.items() if k not in used and _blank_to_none(v) is not None}
    return values, extra


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _row_photos(value: Any, external_id: Any, photos_dir: Path) -> tuple[Path, ...]:
    """Listed photos (relative to photos_dir), else the folder named by the external id."""
    if isinstance(value, str):
        value = [value]
        for separator in PHOTO_SEPARATORS:
            value = [part for item in value for part in item.split(separator)]
    if isinstance(value, list) and value:
        return tuple(photos_dir / str(item).strip() for item in value if str(item).strip())
    if external_id is not None:
        folder = photos_dir / str(external_id)
        # A missing folder is one missing photo in the report, not a silent empty person.
        return photo_files(folder) if folder.is_dir() else (folder,)
    return ()


def _person(
    label: str, origin: str, values: dict[str, Any], extra: dict[str, Any], photos: tuple[Path, ...]
) -> SourcePerson:
    if values.get("external_id") is not None:
        values["external_id"] = str(values["external_id"])
    metadata = {**extra, ORIGIN_KEY: origin}
    try:
        fields = PersonFields(**values, metadata=metadata)
    except FacebankError as exc:
        problems = exc.details.get("problems") or exc.message
        return SourcePerson(label, origin, None, photos, f"invalid row: {problems}")
    return SourcePerson(label, origin, fields, photos)

"""What an import did: the running counts, and the report of every photo or row it skipped."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

from facebank.errors import ImageInvalidError

# The reasons the import itself gives (the others are the refusing error's code).
MISSING_FILE = "missing_file"  # a listed photo or folder that does not exist; no photos
CHANGED_FILE = "changed_file"  # the photo's bytes changed between its analysis and commit
IMAGE_INVALID = ImageInvalidError.code  # a photo the decoder or a model chokes on


@dataclass(frozen=True)
class Skipped:
    """One photo (or, with `photo` empty, one whole row) the import did not enroll."""

    person: str  # the source's label for the row: folder name or "row N"
    photo: str
    reason: str  # no_face, image_invalid, duplicate, missing_file, changed_file, ...
    detail: str = ""


@dataclass
class ImportSummary:
    people_total: int = 0
    photos_total: int = 0
    photos_done: int = 0  # analysed or skipped so far (the progress bar's count)
    people_created: int = 0
    people_extended: int = 0  # matched an existing person and added photos to them
    people_unchanged: int = 0  # matched, nothing new
    faces_added: int = 0
    photos_already: int = 0  # the person already had this photo (an earlier run)
    skipped: list[Skipped] = field(default_factory=list)
    elapsed_s: float = 0.0
    warmup_s: float = 0.0  # until the first photo was analysed: worker start, model loading

    @property
    def steady_photos_per_s(self) -> float:
        """The rate once the workers run, without their start-up."""
        working = self.elapsed_s - self.warmup_s
        return (self.photos_done - 1) / working if working > 0 and self.photos_done > 1 else 0.0

    @property
    def photos_per_s(self) -> float:
        return self.photos_done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def by_reason(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.skipped:
            counts[item.reason] = counts.get(item.reason, 0) + 1
        return dict(sorted(counts.items()))

    def as_text(self) -> str:
        reasons = ", ".join(f"{n} {reason}" for reason, n in self.by_reason().items()) or "none"
        return (
            f"{self.people_total} people, {self.photos_total} photos in "
            f"{self.elapsed_s:.1f} s ({self.photos_per_s:.1f} photos/s; "
            f"{self.steady_photos_per_s:.1f} after {self.warmup_s:.1f} s of start-up)\n"
            f"people: {self.people_created} created, {self.people_extended} given new photos, "
            f"{self.people_unchanged} unchanged\n"
            f"faces added: {self.faces_added}; photos already enrolled: {self.photos_already}\n"
            f"skipped: {len(self.skipped)} ({reasons})"
        )


REPORT_FORMATS = ("csv", "json")


def report_body(summary: ImportSummary) -> dict[str, Any]:
    """The JSON report: the counts plus every skipped photo or row."""
    counts = {f.name: getattr(summary, f.name) for f in fields(summary) if f.name != "skipped"}
    return {**counts, "skipped": [asdict(item) for item in summary.skipped]}


def write_skipped_csv(skipped: Iterable[Skipped], handle: TextIO) -> None:
    writer = csv.writer(handle)
    writer.writerow([f.name for f in fields(Skipped)])
    for item in skipped:
        writer.writerow([item.person, item.photo, item.reason, item.detail])


def skipped_csv(skipped: Iterable[Skipped]) -> str:
    out = io.StringIO(newline="")
    write_skipped_csv(skipped, out)
    return out.getvalue()


def write_report(summary: ImportSummary, path: Path, report_format: str) -> None:
    """CSV: one line per skipped photo. JSON: the counts plus the same list."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if report_format == "json":
        body = report_body(summary)
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_skipped_csv(summary.skipped, handle)

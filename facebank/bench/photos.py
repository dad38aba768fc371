"""Photo sets the benchmark sends: single-face photos by identity, and group photos."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


@dataclass(frozen=True)
class BenchPhoto:
    name: str  # path relative to the set's folder
    identity: str | None  # the sub-folder, for sets organised <identity>/<photo>
    data: bytes


@dataclass(frozen=True)
class PhotoSet:
    name: str
    folder: Path
    photos: tuple[BenchPhoto, ...]

    @property
    def identities(self) -> dict[str, list[BenchPhoto]]:
        grouped: dict[str, list[BenchPhoto]] = {}
        for photo in self.photos:
            if photo.identity is not None:
                grouped.setdefault(photo.identity, []).append(photo)
        return grouped


def load_photo_set(name: str, folder: Path) -> PhotoSet:
    """Every photo under `folder`, sorted; <folder>/<identity>/<photo> names identities."""
    if not folder.is_dir():
        raise FileNotFoundError(f"photo folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise FileNotFoundError(f"no photos ({', '.join(sorted(SUFFIXES))}) under {folder}")
    photos = tuple(
        BenchPhoto(
            name=str(path.relative_to(folder)),
            identity=path.parent.name if path.parent != folder else None,
            data=path.read_bytes(),
        )
        for path in files
    )
    return PhotoSet(name, folder, photos)

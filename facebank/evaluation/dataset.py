"""Folders of identities: <root>/<identity>/<photo>."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


@dataclass(frozen=True)
class LabelledPhoto:
    identity: str
    path: Path


def load_identities(root: Path) -> list[LabelledPhoto]:
    """Every photo under an identity folder, in a stable order (identity, then file name)."""
    if not root.is_dir():
        raise FileNotFoundError(f"no dataset folder at {root}")
    photos = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in PHOTO_SUFFIXES:
                photos.append(LabelledPhoto(folder.name, path))
    return photos

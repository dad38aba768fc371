"""Folders of identities: <root>/<identity>/<photo>."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif"}


@dataclass(frozen=True)
class LabelledPhoto:
    identity: str
    path: Path


def identity_folders(
    root: Path, suffixes: Collection[str] = PHOTO_SUFFIXES
) -> dict[str, list[Path]]:
    """identity -> its photos with one of `suffixes`, both sorted by name."""
    if not root.is_dir():
        raise FileNotFoundError(f"no dataset folder at {root}")
    return {
        folder.name: sorted(p for p in folder.iterdir() if p.suffix.lower() in suffixes)
        for folder in sorted(root.iterdir())
        if folder.is_dir()
    }


def load_identities(root: Path) -> list[LabelledPhoto]:
    """Every photo under an identity folder, in a stable order (identity, then file name)."""
    return [
        LabelledPhoto(identity, path)
        for identity, paths in identity_folders(root).items()
        for path in paths
    ]

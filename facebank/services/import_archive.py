"""Unpacks an uploaded import zip into a folder, refusing what could escape or explode.

Every entry is checked before anything is written: no absolute path, no `..`, no link,
and the declared sizes and entry count within the limits. Writing then counts the bytes
really inflated, so a zip that lies about its sizes is stopped at the limit too.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath

from facebank.errors import ArchiveRefusedError

CHUNK = 1024 * 1024


def unpack(archive: Path, dest: Path, max_entries: int, max_bytes: int) -> Path:
    """Unpack `archive` under `dest` (created); returns `dest`."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            _check(members, max_entries, max_bytes)
            dest.mkdir(parents=True, exist_ok=True)
            written = 0
            for member in members:
                written = _extract(zipped, member, dest, written, max_bytes)
    except zipfile.BadZipFile as exc:
        raise ArchiveRefusedError(f"not a zip archive: {exc}") from exc
    return dest


def _check(members: list[zipfile.ZipInfo], max_entries: int, max_bytes: int) -> None:
    if len(members) > max_entries:
        raise ArchiveRefusedError(
            f"the archive has {len(members)} entries, over the limit of {max_entries}",
            limit=max_entries,
        )
    if sum(m.file_size for m in members) > max_bytes:
        raise ArchiveRefusedError(
            f"the archive unpacks to more than {max_bytes} bytes", limit=max_bytes
        )
    for member in members:
        _relative(member)
        if stat.S_ISLNK(member.external_attr >> 16):
            raise ArchiveRefusedError(f"{member.filename!r} is a link", entry=member.filename)


def _relative(member: zipfile.ZipInfo) -> PurePosixPath:
    name = member.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or ":" in (path.parts[0] if path.parts else ""):
        raise ArchiveRefusedError(
            f"{member.filename!r} points outside the archive", entry=member.filename
        )
    return path


def _extract(
    zipped: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path, written: int, max_bytes: int
) -> int:
    target = dest.joinpath(*_relative(member).parts)
    if member.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return written
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipped.open(member) as source, target.open("wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise ArchiveRefusedError(
                    f"the archive unpacks to more than {max_bytes} bytes", limit=max_bytes
                )
            out.write(chunk)
    return written


def remove(folder: Path) -> None:
    """Remove an unpacked upload; gone already is fine."""
    shutil.rmtree(folder, ignore_errors=True)

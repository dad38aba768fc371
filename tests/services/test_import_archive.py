"""Unpacking an uploaded import zip: folders kept, escapes and bombs refused."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from facebank.errors import ArchiveRefusedError
from facebank.services.import_archive import unpack

FACES = Path("/work/shared/faces/people")


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
    return path


def test_a_folder_per_person_unpacks_as_it_was(tmp_path: Path) -> None:
    person = sorted(p for p in FACES.iterdir() if p.is_dir())[0]
    photo = sorted(person.iterdir())[0]
    archive = _zip(tmp_path / "a.zip", {f"{person.name}/{photo.name}": photo.read_bytes()})
    out = unpack(archive, tmp_path / "out", max_entries=10, max_bytes=10**8)
    assert (out / person.name / photo.name).read_bytes() == photo.read_bytes()


@pytest.mark.parametrize("name", ["../evil.jpg", "/etc/evil.jpg", "a/../../evil.jpg", "C:/x.jpg"])
def test_an_entry_outside_the_folder_is_refused(tmp_path: Path, name: str) -> None:
    archive = _zip(tmp_path / "a.zip", {name: b"x"})
    with pytest.raises(ArchiveRefusedError):
        unpack(archive, tmp_path / "out", max_entries=10, max_bytes=10**6)
    assert not (tmp_path / "evil.jpg").exists()


def test_a_zip_bomb_is_refused_before_it_fills_the_disk(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {"p/big.jpg": b"\0" * 5_000_000})
    assert archive.stat().st_size < 100_000
    with pytest.raises(ArchiveRefusedError, match="more than"):
        unpack(archive, tmp_path / "out", max_entries=10, max_bytes=1_000_000)


def test_too_many_entries_are_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "many.zip", {f"p/{i}.jpg": b"x" for i in range(5)})
    with pytest.raises(ArchiveRefusedError, match="entries"):
        unpack(archive, tmp_path / "out", max_entries=4, max_bytes=10**6)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "x.zip"
    archive.write_bytes(b"not a zip")
    with pytest.raises(ArchiveRefusedError, match="not a zip"):
        unpack(archive, tmp_path / "out", max_entries=4, max_bytes=10**6)

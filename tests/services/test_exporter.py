"""The export archive, written from a real imported gallery on each backend: everything the
database holds comes back out of the archive, and a damaged archive is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from facebank.errors import ArchiveInvalidError
from facebank.services.export_archive import (
    EMBEDDINGS,
    FACES,
    FORMAT_VERSION,
    MANIFEST,
    read_archive,
)
from facebank.services.exporter import Exporter
from facebank.services.import_report import ImportSummary
from facebank.services.import_setup import open_importer
from facebank.services.import_sources import read_source
from facebank.store.db import make_engine, make_session_factory
from facebank.store.gallery_dump import read_gallery
from facebank.store.media import MediaStore, media_ref
from tests.api.conftest import BACKENDS
from tests.services.import_sources import ACTOR, folder_source, gallery

MODEL = "test-model-pack"


def export(settings_url: str, media_dir: Path, dest: Path) -> dict[str, int]:
    engine = make_engine(settings_url)
    try:
        exporter = Exporter(make_session_factory(engine), MediaStore(media_dir), MODEL)
        with dest.open("wb") as stream:
            return exporter.write(stream)
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_archive_holds_the_whole_gallery(kind: str, tmp_path: Path) -> None:
    with gallery(kind, tmp_path / "data") as g:
        with open_importer(g.settings) as importer:
            importer.run(ACTOR, read_source(folder_source(tmp_path)), ImportSummary(), workers=1)
        url = g.settings.effective_database_url
        dest = tmp_path / "gallery.zip"
        counts = export(url, g.settings.media_dir, dest)
        assert counts == {"people": 4, "faces": 9, "photos": 9, "negatives": 0, "negative_crops": 0}

        archive = read_archive(dest)
        engine = make_engine(url)
        try:
            stored = read_gallery(make_session_factory(engine))
        finally:
            engine.dispose()
    assert archive.model_id == MODEL
    assert archive.manifest["counts"] == counts
    assert [p["name"] for p in archive.people] == [p["name"] for p in stored.people]
    assert [p["metadata"] for p in archive.people] == [p["metadata"] for p in stored.people]
    assert [f["embedding"] for f in archive.faces] == [bytes(f["embedding"]) for f in stored.faces]
    assert [f["box"] for f in archive.faces] == [f["box"] for f in stored.faces]
    for face in archive.faces:  # each photo is the original bytes, named by their hash
        assert media_ref(archive.photo(face["media_ref"], face["media_type"])) == face["media_ref"]


def test_a_damaged_archive_is_refused(tmp_path: Path) -> None:
    with gallery("sqlite", tmp_path / "data") as g:
        with open_importer(g.settings) as importer:
            importer.run(ACTOR, read_source(folder_source(tmp_path)), ImportSummary(), workers=1)
        good = tmp_path / "good.zip"
        export(g.settings.effective_database_url, g.settings.media_dir, good)
    data = good.read_bytes()

    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArchiveInvalidError):
        read_archive(truncated)

    tampered = tmp_path / "tampered.zip"  # same entries, one of them changed
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tampered, "w") as out:
        for name in src.namelist():
            body = src.read(name)
            out.writestr(name, body + b"\n" if name == FACES else body)
    with pytest.raises(ArchiveInvalidError, match="checksum"):
        read_archive(tampered)

    unmanifested = tmp_path / "no-manifest.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(unmanifested, "w") as out:
        for name in src.namelist():
            if name != MANIFEST:
                out.writestr(name, src.read(name))
    with pytest.raises(ArchiveInvalidError):
        read_archive(unmanifested)


def _rewritten(good: Path, dest: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """`good`'s entries, changed by `change`, under a manifest whose checksums match."""
    with zipfile.ZipFile(good) as src:
        entries = {name: src.read(name) for name in src.namelist()}
    manifest = json.loads(entries.pop(MANIFEST))
    change(entries)
    manifest["sha256"] = {name: hashlib.sha256(body).hexdigest() for name, body in entries.items()}
    if EMBEDDINGS not in entries:
        manifest["format_version"] = 1
    with zipfile.ZipFile(dest, "w") as out:
        for name, body in entries.items():
            out.writestr(name, body)
        out.writestr(MANIFEST, json.dumps(manifest))
    return dest


def test_format_1_archives_are_still_read_and_stray_embedding_bytes_refused(
    tmp_path: Path,
) -> None:
    with gallery("sqlite", tmp_path / "data") as g:
        with open_importer(g.settings) as importer:
            importer.run(ACTOR, read_source(folder_source(tmp_path)), ImportSummary(), workers=1)
        good = tmp_path / "good.zip"
        export(g.settings.effective_database_url, g.settings.media_dir, good)
    current = read_archive(good)
    assert current.manifest["format_version"] == FORMAT_VERSION == 3

    def as_format_1(entries: dict[str, bytes]) -> None:
        # Format 1 kept each embedding in its face's line, as base64.
        rows = [{**f, "embedding": base64.b64encode(f["embedding"]).decode()}
                for f in current.faces]  # fmt: skip
        entries[FACES] = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
        del entries[EMBEDDINGS]

    old = read_archive(_rewritten(good, tmp_path / "v1.zip", as_format_1))
    assert old.faces == current.faces and old.people == current.people

    def stray_bytes(entries: dict[str, bytes]) -> None:
        entries[EMBEDDINGS] += b"\0" * 4

    with pytest.raises(ArchiveInvalidError, match="no face claims"):
        read_archive(_rewritten(good, tmp_path / "stray.zip", stray_bytes))

    def short(entries: dict[str, bytes]) -> None:
        entries[EMBEDDINGS] = entries[EMBEDDINGS][:-4]

    with pytest.raises(ArchiveInvalidError, match="not in the archive"):
        read_archive(_rewritten(good, tmp_path / "short.zip", short))

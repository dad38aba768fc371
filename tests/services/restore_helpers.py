"""A real gallery imported from ../shared/faces, exported, and the ways to compare it with
its restored copy: rows, and the answers of a running service for every shared photo."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.services.export_archive import (
    PEOPLE,
    ArchiveWriter,
    crop_entry,
    photo_entry,
    read_archive,
)
from facebank.services.exporter import Exporter
from facebank.services.import_report import ImportSummary
from facebank.services.import_setup import open_importer, open_restorer
from facebank.services.import_sources import read_source
from facebank.services.restore import RestoreSummary
from facebank.store.db import make_engine, make_session_factory
from facebank.store.gallery_dump import GalleryDump, read_gallery
from facebank.store.media import MediaStore
from tests.conftest import identity_photos
from tests.services.import_sources import ACTOR, folder_source, gallery


def dump(settings: Settings) -> GalleryDump:
    engine = make_engine(settings.effective_database_url)
    try:
        return read_gallery(make_session_factory(engine))
    finally:
        engine.dispose()


def export(settings: Settings, model_id: str, dest: Path) -> Path:
    engine = make_engine(settings.effective_database_url)
    try:
        exporter = Exporter(make_session_factory(engine), MediaStore(settings.media_dir), model_id)
        with dest.open("wb") as stream:
            exporter.write(stream)
    finally:
        engine.dispose()
    return dest


@contextmanager
def imported_gallery(kind: str, root: Path) -> Iterator[Settings]:
    """A gallery of `kind` holding folder_source's people, imported from the real photos."""
    with gallery(kind, root / "data") as g:
        with open_importer(g.settings) as importer:
            importer.run(ACTOR, read_source(folder_source(root)), ImportSummary(), workers=1)
        yield g.settings


def restore(settings: Settings, model_id: str, archive: Path) -> RestoreSummary:
    with open_restorer(settings, model_id) as restorer:
        return restorer.restore(ACTOR, read_archive(archive))


def reembed(
    settings: Settings, model_id: str, archive: Path, pipeline: FacePipeline | None = None
) -> RestoreSummary:
    with open_restorer(settings, model_id, pipeline) as restorer:
        return restorer.run(ACTOR, read_archive(archive), ImportSummary(), workers=1)


def comparable(d: GalleryDump) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every column of every row, embeddings as bytes (drivers hand back bytes or memoryview)."""
    faces = [{**f, "embedding": bytes(f["embedding"])} for f in d.faces]
    return d.people, faces


@contextmanager
def serving(settings: Settings, pipeline: FacePipeline) -> Iterator[Services]:
    services = build_services(settings, pipeline=pipeline)
    try:
        services.start()
        yield services
    finally:
        services.close()


def answers(services: Services) -> dict[str, list[Any]]:
    """What recognize says for every shared photo: per face, each candidate's person id,
    face id and score, and the match."""
    said = {}
    for identity, photos in identity_photos().items():
        for photo in photos:
            result = services.recognition.recognize(photo.read_bytes(), 5, None, 10)
            said[f"{identity}/{photo.name}"] = [
                (
                    None if f.match is None else f.match.person.id,
                    [(c.person.id, c.face_id, c.score) for c in f.candidates],
                )
                for f in result.faces
            ]
    return said


def good_and_half_failing_archives(root: Path, model_id: str) -> tuple[Path, Path]:
    """An export of a real imported gallery, and a copy whose last face reuses an id, so
    the database refuses it after every person went in."""
    with imported_gallery("sqlite", root / "source") as original:
        good = export(original, model_id, root / "gallery.zip")
        media = MediaStore(original.media_dir)
        bad = rewrite_archive(good, media, model_id, root / "bad.zip", duplicate_last=True)
    return good, bad


def rewrite_archive(
    archive: Path, media: MediaStore, model_id: str, dest: Path, duplicate_last: bool = False
) -> Path:
    """The same people, faces and photos, as written by another model pack: `model_id` in
    the manifest and on every face, and embeddings that are not the running model's (the
    real ones negated: real values, useless under this model). `duplicate_last` gives the
    last face the first one's id, which only the database refuses (with the running
    model's id and embeddings kept, so the restore takes the fast path)."""
    source = read_archive(archive)
    faces = [{**f, "model_id": model_id, "embedding": negated(f["embedding"])}
             for f in source.faces]  # fmt: skip
    if duplicate_last:
        faces = [*source.faces[:-1], {**source.faces[-1], "id": source.faces[0]["id"]}]
    return with_faces(archive, media, faces, dest, model_id)


def with_faces(
    archive: Path, media: MediaStore, faces: list[dict[str, Any]], dest: Path,
    model_id: str | None = None, negatives: list[dict[str, Any]] | None = None,
) -> Path:  # fmt: skip
    """`archive`'s people with `faces` and `archive`'s photos (from `media`), written as a
    valid archive (checksums and all) of `model_id` (by default the archive's own), with
    `negatives` and their crops (by default none)."""
    source = read_archive(archive)
    with dest.open("wb") as stream:
        writer = ArchiveWriter(stream, model_id or source.model_id)
        writer.write_lines(PEOPLE, source.people, "people")
        writer.write_faces(faces)
        for ref, kind in sorted({(f["media_ref"], f["media_type"]) for f in source.faces}):
            writer.write_photo(photo_entry(ref, kind), media.path(ref))
        writer.write_negatives(negatives or [])
        for ref, kind in sorted({(n["media_ref"], n["media_type"]) for n in negatives or []}):
            writer.write_photo(crop_entry(ref, kind), media.path(ref), "negative_crops")
        writer.close()
    return dest


def negated(embedding: bytes) -> bytes:
    return (-np.frombuffer(embedding, dtype="<f4")).astype("<f4").tobytes()

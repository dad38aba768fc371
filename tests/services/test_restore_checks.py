"""What a restore refuses before anything is written (rows the API would refuse, checked a
column at a time), and SQLite's indexes, dropped during the bulk load: the same after a
restore, and after one that failed, as the migrations made them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from facebank.errors import ArchiveInvalidError, ConflictError, ValidationFailedError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.export_archive import PEOPLE, ArchiveWriter, photo_entry, read_archive
from facebank.services.restore import RESTORED
from facebank.store.db import make_engine
from facebank.store.media import MediaStore
from tests.services.import_sources import gallery
from tests.services.restore_helpers import (
    export,
    good_and_half_failing_archives,
    imported_gallery,
    restore,
    with_faces,
)

Face = dict[str, Any]


def _nan_in_last_embedding(face: Face, last: bool) -> Face:
    if not last:
        return face
    values = np.frombuffer(face["embedding"], dtype="<f4").copy()
    values[3] = np.nan
    return {**face, "embedding": values.tobytes()}


def _orphan_last(face: Face, last: bool) -> Face:
    return {**face, "person_id": 10**9} if last else face


def _bool_id_last(face: Face, last: bool) -> Face:
    return {**face, "id": True} if last else face


def _bool_width_last(face: Face, last: bool) -> Face:
    return {**face, "image_width": True} if last else face


def _short_box_last(face: Face, last: bool) -> Face:  # (a NaN cannot be written as JSON)
    return {**face, "box": face["box"][:3]} if last else face


def _bad_media_ref_last(face: Face, last: bool) -> Face:
    return {**face, "media_ref": face["media_ref"].upper()} if last else face


BAD = {
    "nan embedding": (_nan_in_last_embedding, "not finite"),
    "no such person": (_orphan_last, "belongs to no person"),
    "bool id": (_bool_id_last, "bad face id"),
    "bool width": (_bool_width_last, "image_width"),
    "short box": (_short_box_last, "box, landmarks or det_score malformed"),
    "bad media ref": (_bad_media_ref_last, "media ref"),
}


def test_rows_the_api_would_refuse_are_refused_with_nothing_written(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    with imported_gallery("sqlite", tmp_path / "source") as original:
        good = export(original, model, tmp_path / "gallery.zip")
        media = MediaStore(original.media_dir)
        faces = read_archive(good).faces
        bad = {name: with_faces(good, media, _altered(faces, alter), tmp_path / f"{i}.zip")
               for i, (name, (alter, _)) in enumerate(BAD.items())}  # fmt: skip
    with gallery("sqlite", tmp_path / "restored") as fresh:
        for name, archive in bad.items():
            with pytest.raises(ValidationFailedError, match=BAD[name][1]):
                restore(fresh.settings, model, archive)
            assert fresh.people_count() == 0, name
        assert restore(fresh.settings, model, good).faces == len(faces)


def test_sqlite_indexes_are_as_migrated_after_a_failed_and_a_good_restore(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    good, bad = good_and_half_failing_archives(tmp_path, model)
    with gallery("sqlite", tmp_path / "restored") as fresh:
        migrated = _indexes(fresh.settings.effective_database_url)
        assert {"ix_faces_person_id", "ix_faces_media_ref", "ix_people_name"} <= {
            name for name, _ in migrated
        }
        with pytest.raises(ConflictError):
            restore(fresh.settings, model, bad)
        assert _indexes(fresh.settings.effective_database_url) == migrated
        assert restore(fresh.settings, model, good).mode == RESTORED
        assert _indexes(fresh.settings.effective_database_url) == migrated


def _altered(faces: list[Face], alter: Callable[[Face, bool], Face]) -> list[Face]:
    return [alter(face, i == len(faces) - 1) for i, face in enumerate(faces)]


def _indexes(url: str) -> list[tuple[str, str]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
            return [(row[0], row[1]) for row in conn.execute(text(query))]
    finally:
        engine.dispose()


def test_a_photo_not_matching_its_hash_rolls_the_whole_load_back(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    """The photos are copied while the rows go in: one that is not what its face names
    (in an archive whose checksums are all consistent) fails the load before its commit."""
    model = face_pipeline.model_id
    with imported_gallery("sqlite", tmp_path / "source") as original:
        good = export(original, model, tmp_path / "gallery.zip")
        media = MediaStore(original.media_dir)
        source = read_archive(good)
        refs = sorted({(f["media_ref"], f["media_type"]) for f in source.faces})
        swapped = tmp_path / "swapped.zip"
        with swapped.open("wb") as stream:
            writer = ArchiveWriter(stream, source.model_id)
            writer.write_lines(PEOPLE, source.people, "people")
            writer.write_faces(source.faces)
            for i, (ref, kind) in enumerate(refs):  # the last entry holds the first photo
                other = refs[0][0] if i == len(refs) - 1 else ref
                writer.write_photo(photo_entry(ref, kind), media.path(other))
            writer.close()
    with gallery("sqlite", tmp_path / "restored") as fresh:
        with pytest.raises(ArchiveInvalidError, match="does not match its hash"):
            restore(fresh.settings, model, swapped)
        assert fresh.people_count() == 0
        assert not list(fresh.settings.index_dir.glob(".stage-*"))
        assert restore(fresh.settings, model, good).mode == RESTORED

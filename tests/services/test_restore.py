"""Restoring an export archive of a real imported gallery into a fresh, empty one: every
row comes back as it was (ids included), and a service on the restored gallery answers
every shared photo exactly as the original does, also from SQLite into MariaDB/PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.errors import ArchiveInvalidError, GalleryNotEmptyError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.restore import ALREADY, RESTORED
from facebank.store.people import PersonFields
from tests.services.import_sources import gallery
from tests.services.restore_helpers import (
    answers,
    comparable,
    dump,
    export,
    imported_gallery,
    restore,
    serving,
)

PAIRS = [
    ("sqlite", "sqlite"),
    pytest.param("mysql", "mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", "postgresql", marks=pytest.mark.postgres),
    pytest.param("sqlite", "mysql", marks=pytest.mark.mysql),
    pytest.param("sqlite", "postgresql", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize(("source", "target"), PAIRS)
def test_a_restored_gallery_equals_the_exported_one(
    source: str, target: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    with imported_gallery(source, tmp_path / "source") as original:
        archive = export(original, model, tmp_path / "gallery.zip")
        with gallery(target, tmp_path / "restored") as fresh:
            summary = restore(fresh.settings, model, archive)
            assert (summary.mode, summary.people, summary.faces) == (RESTORED, 4, 9)
            assert (summary.photos, summary.index_size) == (9, 9)
            assert comparable(dump(fresh.settings)) == comparable(dump(original))
            for face in dump(fresh.settings).faces:
                assert (fresh.settings.media_dir / face["media_ref"][:2]).is_dir()
            with serving(original, face_pipeline) as before:
                expected = answers(before)
            with serving(fresh.settings, face_pipeline) as after:
                assert after.index.status().last_sync_kind == "snapshot"  # no rebuild at start
                assert answers(after) == expected
            assert len(expected) > 20
            # A person added after the restore gets an id past the restored ones.
            added, _ = fresh.people.create(PersonFields(name="After The Restore"))
            assert added.id > max(p["id"] for p in dump(original).people)


def test_restoring_again_adds_nothing_and_another_gallery_is_refused(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    with imported_gallery("sqlite", tmp_path / "source") as original:
        archive = export(original, model, tmp_path / "gallery.zip")
        with gallery("sqlite", tmp_path / "restored") as fresh:
            restore(fresh.settings, model, archive)
            again = restore(fresh.settings, model, archive)
            assert (again.mode, again.people, again.faces, again.index_size) == (ALREADY, 0, 0, 9)
            assert fresh.people_count() == 4
        with gallery("sqlite", tmp_path / "other") as other:
            other.people.create(PersonFields(name="Someone Else"))
            with pytest.raises(GalleryNotEmptyError) as refused:
                restore(other.settings, model, archive)
            assert refused.value.code == "gallery_not_empty"
            assert other.people_count() == 1


def test_a_corrupt_archive_is_refused_before_anything_is_written(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    with imported_gallery("sqlite", tmp_path / "source") as original:
        archive = export(original, model, tmp_path / "gallery.zip")
    data = archive.read_bytes()
    broken = tmp_path / "broken.zip"
    broken.write_bytes(data[: len(data) // 2])
    with gallery("sqlite", tmp_path / "restored") as fresh:
        with pytest.raises(ArchiveInvalidError):
            restore(fresh.settings, model, broken)
        assert fresh.people_count() == 0
        assert not fresh.settings.media_dir.exists() or not any(fresh.settings.media_dir.iterdir())

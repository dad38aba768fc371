"""Restoring an export archive of a real imported gallery into a fresh, empty one: every
row comes back as it was (ids included), and a service on the restored gallery answers
every shared photo exactly as the original does, also from SQLite into MariaDB/PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.errors import ArchiveInvalidError, ConflictError, GalleryNotEmptyError
from facebank.index.snapshot import load_snapshot
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.index_sync import IndexManager
from facebank.services.restore import ALREADY, REEMBEDDED, RESTORED
from facebank.store.db import make_engine, make_session_factory
from facebank.store.gallery_dump import GalleryDump
from facebank.store.media import MediaStore
from facebank.store.people import FaceRepository, PersonFields
from tests.api.conftest import BACKENDS
from tests.services.import_sources import gallery
from tests.services.restore_helpers import (
    answers,
    comparable,
    dump,
    export,
    good_and_half_failing_archives,
    imported_gallery,
    reembed,
    restore,
    rewrite_archive,
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
            assert fresh.audit_rows() == 1  # one entry with the counts, not one per face
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


@pytest.mark.parametrize("target", BACKENDS)
def test_an_archive_of_another_model_is_enrolled_again_from_its_photos(
    target: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    with imported_gallery("sqlite", tmp_path / "source") as original:
        exported = export(original, model, tmp_path / "gallery.zip")
        media = MediaStore(original.media_dir)
        old = rewrite_archive(exported, media, "old-model-0123456789ab", tmp_path / "old.zip")
        enrolled = dump(original)  # what enrolling these photos under the running model gives
    with gallery(target, tmp_path / "restored") as fresh:
        summary = reembed(fresh.settings, model, old)
        assert (summary.mode, summary.people, summary.faces) == (REEMBEDDED, 4, 9)
        assert summary.imported is not None and summary.imported.skipped == []
        assert summary.index_size == 9
        restored = dump(fresh.settings)
        assert {f["model_id"] for f in restored.faces} == {model}
        assert _by_photo(restored) == _by_photo(enrolled)
        assert _fields(restored) == _fields(enrolled)

        again = reembed(fresh.settings, model, old)  # continues an interrupted run: nothing left
        assert (again.people, again.faces) == (0, 0)
        assert again.imported is not None and again.imported.people_unchanged == 4


def _by_photo(d: GalleryDump) -> dict[str, tuple[bytes, list[float], float]]:
    return {f["media_ref"]: (bytes(f["embedding"]), f["box"], f["det_score"]) for f in d.faces}


def _fields(d: GalleryDump) -> list[dict[str, object]]:
    return sorted(({k: v for k, v in p.items() if k != "id"} for p in d.people), key=repr)


def test_a_restore_failing_halfway_leaves_the_gallery_empty(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    good, bad = good_and_half_failing_archives(tmp_path, model)
    with gallery("sqlite", tmp_path / "restored") as fresh:
        with pytest.raises(ConflictError, match="nothing was restored"):
            restore(fresh.settings, model, bad)
        assert fresh.people_count() == 0
        index_dir = fresh.settings.index_dir
        assert not [p for p in index_dir.glob(".stage-*")] if index_dir.exists() else True
        summary = restore(fresh.settings, model, good)  # so running again just restores
        assert (summary.mode, summary.faces) == (RESTORED, 9)


def test_an_index_given_that_differs_from_the_database_is_rebuilt_instead(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    with imported_gallery("sqlite", tmp_path / "source") as original:
        engine = make_engine(original.effective_database_url)
        try:
            faces = FaceRepository(make_session_factory(engine))
            ids, people, vectors = faces.fetch_embeddings(faces.face_ids(model).tolist())
            index = IndexManager(faces, model, vectors.shape[1], tmp_path / "index")
            status = index.replace(ids[:-1], people[:-1], vectors[:-1])  # one face short
            assert (status.last_sync_kind, status.index_size, status.consistent) == (
                "rebuild", 9, True
            )  # fmt: skip
            status = index.replace(ids, people, vectors)
            assert (status.last_sync_kind, status.index_size, status.consistent) == (
                "replace", 9, True
            )  # fmt: skip
            short = index.build(ids[:-1], people[:-1], vectors[:-1])
            staged = index.stage(short)  # a snapshot staged of it is never committed
            assert index.install(short, staged) == 9
            assert index.status().last_sync_kind == "rebuild"
            assert not staged.stage.exists() if staged else False
            loaded = load_snapshot(tmp_path / "index", vectors.shape[1], model)
            assert loaded is not None and loaded[0].size == 9
        finally:
            engine.dispose()

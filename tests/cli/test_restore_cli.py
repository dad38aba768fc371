"""`facebank import ARCHIVE.zip` from the shell: an export archive is restored (counts and
rate printed), refused into a gallery that has people, and folder imports are unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.cli.main import main
from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from facebank.store.media import MediaStore
from facebank.store.people import PersonFields
from tests.services.import_sources import gallery
from tests.services.restore_helpers import (
    comparable,
    dump,
    export,
    imported_gallery,
    rewrite_archive,
)


def _import(monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str) -> int:
    monkeypatch.setenv("FACEBANK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FACEBANK_DATABASE_URL", settings.database_url)
    monkeypatch.delenv("FACEBANK_SECRET_KEY", raising=False)
    return main(["import", *args])


def test_import_of_an_archive_restores_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    face_pipeline: FacePipeline,
) -> None:
    with imported_gallery("sqlite", tmp_path / "source") as original:
        archive = export(original, face_pipeline.model_id, tmp_path / "gallery.zip")
        with gallery("sqlite", tmp_path / "restored") as fresh:
            assert _import(monkeypatch, fresh.settings, str(archive)) == 0
            out = capsys.readouterr().out
            assert "restored: 4 people, 9 faces, 9 photos" in out and "faces/s" in out
            assert comparable(dump(fresh.settings)) == comparable(dump(original))
        with gallery("sqlite", tmp_path / "other") as other:
            other.people.create(PersonFields(name="Someone Else"))
            assert _import(monkeypatch, other.settings, str(archive)) == 1
            assert "error: the gallery already has people (1)" in capsys.readouterr().err


def test_import_of_an_archive_of_another_model_re_embeds_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    face_pipeline: FacePipeline,
) -> None:
    with imported_gallery("sqlite", tmp_path / "source") as original:
        exported = export(original, face_pipeline.model_id, tmp_path / "gallery.zip")
        media = MediaStore(original.media_dir)
        old = rewrite_archive(exported, media, "old-model-0123456789ab", tmp_path / "old.zip")
    with gallery("sqlite", tmp_path / "restored") as fresh:
        report = tmp_path / "report.csv"
        args = (str(old), "--workers", "1", "--report", str(report))
        assert _import(monkeypatch, fresh.settings, *args) == 0
        out = capsys.readouterr().out
        assert "reembedded: 4 people, 9 faces" in out and "4 created" in out
        assert report.is_file()
        assert {f["model_id"] for f in dump(fresh.settings).faces} == {face_pipeline.model_id}

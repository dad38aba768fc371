"""`facebank export DEST` from the shell, on a gallery imported from real photos."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.cli.main import main
from facebank.services.export_archive import read_archive
from facebank.services.import_report import ImportSummary
from facebank.services.import_setup import open_importer
from facebank.services.import_sources import read_source
from tests.services.import_sources import ACTOR, folder_source, gallery


def test_export_writes_a_verified_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with gallery("sqlite", tmp_path / "data") as g:
        with open_importer(g.settings) as importer:
            importer.run(ACTOR, read_source(folder_source(tmp_path)), ImportSummary(), workers=1)
        monkeypatch.setenv("FACEBANK_DATA_DIR", str(g.settings.data_dir))
        monkeypatch.setenv("FACEBANK_DATABASE_URL", g.settings.database_url)
        dest = tmp_path / "out" / "gallery.zip"
        dest.parent.mkdir()
        assert main(["export", str(dest)]) == 0
    archive = read_archive(dest)
    assert archive.manifest["counts"] == {
        "people": 4, "faces": 9, "photos": 9, "negatives": 0, "negative_crops": 0
    }
    assert sorted(p["name"] for p in archive.people)[0] == "Joe Biden"
    assert list(dest.parent.iterdir()) == [dest]  # no partial file left behind
    assert "exported 4 people, 9 faces and 9 photos" in capsys.readouterr().err

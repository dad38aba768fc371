"""Reading import sources: no photos are opened here, only names and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.errors import ValidationFailedError
from facebank.services.import_sources import ORIGIN_KEY, read_source


def test_a_photos_column_lists_paths_and_other_columns_become_metadata(tmp_path: Path) -> None:
    table = tmp_path / "people.csv"
    table.write_text("name,photos,team\nAda Lovelace,a.jpg; b/c.png|d.jpg,analytical\n")
    (person,) = read_source(table, photos_dir=tmp_path / "pics")
    assert person.photos == tuple(tmp_path / "pics" / p for p in ("a.jpg", "b/c.png", "d.jpg"))
    assert person.fields is not None and person.fields.metadata["team"] == "analytical"
    assert person.fields.metadata[ORIGIN_KEY] == f"{table.resolve()}#Ada Lovelace"


def test_folder_names_read_underscores_as_spaces(tmp_path: Path) -> None:
    (tmp_path / "Ada_Lovelace").mkdir()
    (tmp_path / "Ada_Lovelace" / "1.JPG").write_bytes(b"")
    (tmp_path / "Ada_Lovelace" / "notes.txt").write_text("")
    (person,) = read_source(tmp_path)
    assert person.fields is not None and person.fields.name == "Ada Lovelace"
    assert [p.name for p in person.photos] == ["1.JPG"]


def test_unknown_fields_and_sources_are_refused(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("name\nx\n")
    with pytest.raises(ValidationFailedError, match="cannot map"):
        read_source(table, {"nickname": "n"})
    archive = tmp_path / "export.tar"
    archive.write_bytes(b"")
    with pytest.raises(ValidationFailedError, match="not a folder"):
        read_source(archive)
    with pytest.raises(ValidationFailedError, match="does not exist"):
        read_source(tmp_path / "nowhere.csv")

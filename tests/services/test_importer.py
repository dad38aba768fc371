"""Bulk import into each backend: a folder per person and the seed's class_info.csv, with
broken rows, twice (the second run adds nothing); and beside a running server."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.import_report import ImportSummary
from facebank.services.import_setup import open_importer
from facebank.services.import_sources import read_source
from facebank.store.media import MediaStore, media_ref
from tests.api.conftest import BACKENDS, running_services
from tests.conftest import PEOPLE
from tests.poor_photos import OBAMA, blurred, tiny
from tests.services.import_sources import (
    ACTOR,
    class_info_source,
    folder_source,
    gallery,
    jsonl_source,
)
from tests.waiting import wait_until

WORKERS = 2


def run_import(settings: Settings, source: Path, **kwargs: object) -> ImportSummary:
    people = read_source(source, **kwargs)  # type: ignore[arg-type]
    with open_importer(settings) as importer:
        return importer.run(ACTOR, people, ImportSummary(), workers=WORKERS)


def reasons(summary: ImportSummary) -> list[tuple[str, str, str]]:
    return sorted((s.person, Path(s.photo).name, s.reason) for s in summary.skipped)


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_folder_per_person_imports_once(kind: str, tmp_path: Path) -> None:
    source = folder_source(tmp_path)
    with gallery(kind, tmp_path / "data") as g:
        first = run_import(g.settings, source)
        assert (first.people_created, first.faces_added) == (4, 9)
        assert reasons(first) == [
            ("Empty_Folder", "", "missing_file"),
            ("Joe_Biden", "broken.jpg", "image_invalid"),
            ("Joe_Biden", "zz_same_bytes.jpg", "duplicate"),
            ("Nobody_Here", "wall.png", "no_face"),
        ]
        names = sorted(row[0] for row in g.state())
        assert names == ["Joe Biden", "Kit Harington", "Rose Leslie", "deepface id11"]
        assert g.audit_rows() == 4 + 9  # each person and each face
        before = g.state()

        second = run_import(g.settings, source)
        assert (second.people_created, second.people_extended, second.faces_added) == (0, 0, 0)
        assert (second.people_unchanged, second.photos_already) == (4, 9)
        assert reasons(second) == reasons(first)
        assert g.state() == before
        assert g.audit_rows() == 4 + 9


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_seed_class_info_csv_imports_as_is(kind: str, tmp_path: Path) -> None:
    table = class_info_source(tmp_path)
    with gallery(kind, tmp_path / "data") as g:
        first = run_import(g.settings, table)
        assert (first.people_created, first.faces_added) == (3, 7)
        assert reasons(first) == [
            ("row 4", "3", "missing_file"),
            ("row 5", "", "invalid_row"),
            ("row 6", "img1.jpg", "duplicate"),
            ("row 6", "img2.jpg", "duplicate"),
            ("row 7", "wall.png", "no_face"),
            ("row 8", "broken.jpg", "image_invalid"),
        ]
        biden = g.people.get_by_external_id("1")
        assert (biden.name, biden.age, biden.gender, biden.address) == (
            "Joe Biden",
            80,
            "nam",
            "Washington",
        )
        assert biden.face_count == 2
        before = g.state()
        second = run_import(g.settings, table)
        assert (second.people_created, second.faces_added) == (0, 0)
        assert g.state() == before


def test_json_lines_with_mapped_columns(tmp_path: Path) -> None:
    table = jsonl_source(tmp_path)
    columns = {"external_id": "code", "name": "full_name", "photos": "pics"}
    with gallery("sqlite", tmp_path / "data") as g:
        summary = run_import(g.settings, table, columns=columns)
        kit = g.people.get_by_external_id("K-1")
        assert (kit.name, kit.face_count, kit.metadata["team"]) == ("Kit Harington", 3, "north")
        assert reasons(summary) == [
            ("row 1", "missing.jpg", "missing_file"),
            ("row 2", "", "invalid_row"),
            ("row 3", "", "invalid_row"),
        ]


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_running_server_sees_the_imported_faces(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    source = folder_source(tmp_path)
    data = tmp_path / "data"
    with running_services(kind, data, face_pipeline, index_follow_interval_s=0.2) as server:
        summary = run_import(server.settings, source)
        wait_until(lambda: server.index.size[0] == summary.faces_added, 30, "the index follow")
        probe = sorted((source / "Rose_Leslie").iterdir())[0]
        found = server.recognition.recognize(probe.read_bytes(), 1, None, 1).faces[0].match
        assert found is not None and found.person.name == "Rose Leslie"


def test_poor_photos_and_duplicates_are_reported_and_the_import_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "people"
    (source / "Barack_Obama").mkdir(parents=True)
    (source / "Someone_Else").mkdir()
    shutil.copy(OBAMA, source / "Barack_Obama" / "obama.jpg")
    (source / "Barack_Obama" / "blurred.jpg").write_bytes(blurred())
    (source / "Barack_Obama" / "tiny.jpg").write_bytes(tiny())
    # Obama again under another name, in the same run: checked against what it committed.
    shutil.copy(PEOPLE / "fr_obama" / "obama2.jpg", source / "Someone_Else" / "obama2.jpg")
    with gallery("sqlite", tmp_path / "data") as g:
        summary = run_import(g.settings, source)
        assert (summary.people_created, summary.faces_added) == (1, 1)
        assert reasons(summary) == [
            ("Barack_Obama", "blurred.jpg", "low_quality"),
            ("Barack_Obama", "tiny.jpg", "low_quality"),
            ("Someone_Else", "obama2.jpg", "duplicate_face"),
        ]
        details = {Path(s.photo).name: s.detail for s in summary.skipped}
        assert "blur" in details["blurred.jpg"] and "face_px" in details["tiny.jpg"]
        assert "Barack Obama" in details["obama2.jpg"]
        assert [row[0] for row in g.state()] == ["Barack Obama"]


@pytest.mark.parametrize(
    ("change", "reason"), [("overwrite", "changed_file"), ("remove", "missing_file")]
)
def test_a_photo_changed_after_its_analysis_is_not_enrolled(
    change: str, reason: str, tmp_path: Path
) -> None:
    """The parent reads each photo again to store it: bytes that are no longer those the
    worker analysed are reported, never stored under the analysed photo's face."""
    kit = PEOPLE / "fr_kit_harington"
    person = tmp_path / "people" / "Kit_Harington"
    person.mkdir(parents=True)
    first, second = person / "a.jpg", person / "b.jpg"
    shutil.copy(kit / "john1.jpeg", first)
    shutil.copy(kit / "john2.jpeg", second)
    original = media_ref(first.read_bytes())

    def swap_first(summary: ImportSummary) -> None:
        # One worker takes the jobs in order: the first outcome in is a.jpg's, and the
        # person commits only once b.jpg's is in too.
        if summary.photos_done == 1:
            if change == "overwrite":
                shutil.copy(kit / "johnsnow_test1.jpg", first)
            else:
                first.unlink()

    with gallery("sqlite", tmp_path / "data") as g:
        with open_importer(g.settings) as importer:
            people = read_source(tmp_path / "people")
            summary = importer.run(ACTOR, people, ImportSummary(), workers=1, progress=swap_first)
        assert (summary.people_created, summary.faces_added) == (1, 1)
        assert reasons(summary) == [("Kit_Harington", "a.jpg", reason)]
        [(*_, refs)] = g.state()
        assert refs == (media_ref(second.read_bytes()),)
        assert sorted(MediaStore(g.settings.media_dir).iter_refs()) == [refs[0]]
        assert original not in refs

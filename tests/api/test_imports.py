"""POST /api/v1/imports: a zip (a folder per person, or a CSV with its photos) imported in
the background, followed to its report; refusals (busy, viewer, unsafe zip, too large)."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from tests.api.conftest import BACKENDS, app_client, photo_file, running_services
from tests.services.import_sources import class_info_source, folder_source, zip_folder
from tests.waiting import wait_until

IMPORT_TIMEOUT_S = 240.0
URL = "/api/v1/imports"


def upload(client: TestClient, archive: Path, **fields: str) -> httpx.Response:
    files = {"file": (archive.name, archive.read_bytes(), "application/zip")}
    return client.post(URL, files=files, data=fields)


def wait_done(client: TestClient, job_id: int) -> dict[str, Any]:
    def ended() -> bool:
        return client.get(f"{URL}/{job_id}").json()["state"] not in ("queued", "running")

    wait_until(ended, timeout=IMPORT_TIMEOUT_S, what=f"import {job_id} to end", poll_s=0.25)
    job: dict[str, Any] = client.get(f"{URL}/{job_id}").json()
    return job


def skipped(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    return sorted((s["person"], s["photo"], s["reason"]) for s in report["skipped"])


@pytest.fixture
def services(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[Services]:
    with running_services("sqlite", tmp_path / "data", face_pipeline) as running:
        yield running


@pytest.fixture
def operator(services: Services) -> Iterator[TestClient]:
    with app_client(services, Role.OPERATOR) as client:
        yield client


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_folder_zip_is_imported_and_recognised(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip", inside="people")
    with (
        running_services(kind, tmp_path / "data", face_pipeline) as services,
        app_client(services, Role.OPERATOR) as client,
    ):
        created = upload(client, archive)
        assert created.status_code == 202, created.text
        assert created.json()["state"] in ("queued", "running")
        job = wait_done(client, created.json()["id"])
        assert (job["state"], job["source_kind"], job["filename"]) == (
            "done",
            "folder",
            "people.zip",
        )
        assert job["counts"]["people_created"] == 4 and job["counts"]["faces_added"] == 9
        assert (job["progress"], job["eta_s"], job["error"]) == (1.0, None, None)
        assert job["elapsed_s"] > 0 and job["report"] == f"{URL}/{job['id']}/report"
        report = client.get(job["report"]).json()
        assert skipped(report) == [
            ("Empty_Folder", "", "missing_file"),
            ("Joe_Biden", "people/Joe_Biden/broken.jpg", "image_invalid"),
            ("Joe_Biden", "people/Joe_Biden/zz_same_bytes.jpg", "duplicate"),
            ("Nobody_Here", "people/Nobody_Here/wall.png", "no_face"),
        ]
        found = client.get("/api/v1/people", params={"q": "Rose"}).json()
        assert [p["name"] for p in found["items"]] == ["Rose Leslie"]
        probe = sorted((tmp_path / "people" / "Rose_Leslie").iterdir())[0]
        faces = client.post("/api/v1/recognize", files=[photo_file(probe)]).json()["faces"]
        assert faces[0]["match"]["name"] == "Rose Leslie"
        listed = client.get(URL).json()
        assert (listed["total"], listed["items"][0]["id"]) == (1, job["id"])


def test_a_csv_zip_with_its_photos_and_the_csv_report(operator: TestClient, tmp_path: Path) -> None:
    table = class_info_source(tmp_path)
    archive = zip_folder(table.parent, tmp_path / "seed.zip")
    created = upload(operator, archive, face_choice="auto")
    assert created.status_code == 202, created.text
    job = wait_done(operator, created.json()["id"])
    assert (job["state"], job["source_kind"]) == ("done", "csv")
    assert (job["counts"]["people_created"], job["counts"]["faces_added"]) == (3, 7)
    biden = operator.get("/api/v1/people", params={"external_id": "1"}).json()["items"][0]
    assert (biden["name"], biden["age"], biden["address"]) == ("Joe Biden", 80, "Washington")
    report = operator.get(job["report"]).json()
    assert ("row 8", "6/broken.jpg", "image_invalid") in skipped(report)
    assert ("row 7", "5/wall.png", "no_face") in skipped(report)
    by_query = operator.get(job["report"], params={"format": "csv"})
    by_accept = operator.get(job["report"], headers={"Accept": "text/csv"})
    assert by_query.headers["content-type"].startswith("text/csv")
    assert by_query.text == by_accept.text
    lines = by_query.text.splitlines()
    assert lines[0] == "person,photo,reason,detail" and len(lines) == 1 + len(report["skipped"])


def test_mapped_columns_of_a_table(operator: TestClient, tmp_path: Path) -> None:
    source = tmp_path / "table"
    photos = sorted((class_info_source(tmp_path).parent / "6").iterdir())  # 3 and a broken one
    (source / "pics").mkdir(parents=True)
    for photo in photos:
        (source / "pics" / photo.name).write_bytes(photo.read_bytes())
    pics = ";".join(f"pics/{p.name}" for p in photos if p.name != "broken.jpg")
    (source / "people.csv").write_text(f"code,full_name,pics\nK-1,Kit Harington,{pics}\n")
    columns = json.dumps({"external_id": "code", "name": "full_name", "photos": "pics"})
    created = upload(operator, zip_folder(source, tmp_path / "t.zip"), columns=columns)
    assert created.status_code == 202, created.text
    assert wait_done(operator, created.json()["id"])["counts"]["faces_added"] == 3
    bad = upload(operator, zip_folder(source, tmp_path / "t.zip"), columns='{"nope": "x"}')
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "validation_error")


def test_one_import_at_a_time(operator: TestClient, services: Services, tmp_path: Path) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip")
    first = upload(operator, archive)
    assert first.status_code == 202, first.text
    second = upload(operator, archive)
    assert second.status_code == 409, second.text
    assert second.json()["error"]["code"] == "import_in_progress"
    assert second.json()["error"]["details"]["job_id"] == first.json()["id"]
    wait_done(operator, first.json()["id"])
    assert upload(operator, archive).status_code == 202  # free again once it ended
    wait_done(operator, first.json()["id"] + 1)
    left = services.settings.imports_dir
    wait_until(lambda: not any(left.iterdir()), what="the jobs' files removed after their end")


def test_a_viewer_may_follow_but_not_upload(services: Services, tmp_path: Path) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip")
    with app_client(services, Role.VIEWER) as viewer:
        refused = upload(viewer, archive)
        assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
        assert viewer.get(URL).json()["total"] == 0
        assert viewer.get(f"{URL}/1").status_code == 404
        assert viewer.get(f"{URL}/1/report").status_code == 404


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


UNSAFE = [
    pytest.param(_zip({"../escape/a.jpg": b"x"}), 400, "archive_refused", id="zip-slip"),
    pytest.param(_zip({"/abs/a.jpg": b"x"}), 400, "archive_refused", id="absolute"),
    pytest.param(_zip({"a/big.jpg": bytes(64 * 1024)}), 400, "archive_refused", id="bomb"),
    pytest.param(b"not a zip at all", 400, "archive_refused", id="not-a-zip"),
    pytest.param(_zip({"notes.txt": b"hello"}), 422, "validation_error", id="no-people"),
]


@pytest.mark.parametrize(("body", "status", "code"), UNSAFE)
def test_unsafe_or_empty_archives_are_refused_and_leave_nothing(
    tmp_path: Path, face_pipeline: FacePipeline, body: bytes, status: int, code: str
) -> None:
    limits = {"import_max_unpacked_bytes": 32 * 1024}
    with (
        running_services("sqlite", tmp_path / "data", face_pipeline, **limits) as services,
        app_client(services, Role.OPERATOR) as client,
    ):
        answer = client.post(URL, files={"file": ("x.zip", body, "application/zip")})
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
        assert list(services.settings.imports_dir.iterdir()) == []
        assert client.get(URL).json()["total"] == 0


def test_form_mistakes_are_refused(operator: TestClient) -> None:
    no_file = operator.post(URL, data={"face_choice": "auto"}, files={"other": ("a", b"b")})
    assert no_file.status_code == 422, no_file.text
    not_multipart = operator.post(URL, json={"file": "x"})
    assert not_multipart.status_code == 422
    archive = _zip({"a/1.jpg": b"x"})
    bad_choice = operator.post(
        URL, files={"file": ("x.zip", archive)}, data={"face_choice": "biggest"}
    )
    assert bad_choice.json()["error"]["details"]["field"] == "face_choice"


def test_an_upload_over_its_own_limit_is_413_and_others_keep_theirs(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    limits = {"import_max_upload_bytes": 8 * 1024, "max_request_bytes": 4096}
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip")
    with (
        running_services("sqlite", tmp_path / "data", face_pipeline, **limits) as services,
        app_client(services, Role.OPERATOR) as client,
    ):
        refused = upload(client, archive)
        assert refused.status_code == 413
        assert refused.json()["error"]["code"] == "request_too_large"
        assert refused.json()["error"]["details"]["limit"] == 8 * 1024
        noise = os.urandom(6000)  # does not compress: the body is over 4096
        small = client.post(URL, files={"file": ("x.zip", _zip({"notes.txt": noise}))})
        assert small.status_code == 422  # between the two limits: the import's one applies
        elsewhere = client.post("/api/v1/recognize", files={"file": ("a.jpg", bytes(6000))})
        assert elsewhere.status_code == 413
        assert list(services.settings.imports_dir.iterdir()) == []

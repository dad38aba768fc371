"""GET /api/v1/export: an admin downloads the archive of a gallery enrolled through the API,
and it holds exactly what the database does; nobody else may; a client that goes away
mid-download stops the writer thread."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient
from starlette.types import Message

from facebank.api.security import API_KEY_HEADER
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from facebank.services.export_archive import read_archive
from facebank.services.export_stream import THREAD_PREFIX
from facebank.store.db import make_session_factory
from facebank.store.gallery_dump import read_gallery
from facebank.store.media import media_ref
from tests.api.conftest import BACKENDS, api_key_for, app_client, photo_file, running_services
from tests.api.test_negatives import STRANGER, mark_not
from tests.conftest import identity_photos
from tests.waiting import wait_until

URL = "/api/v1/export"
FILENAME = re.compile(r'^attachment; filename="facebank-export-\d{8}T\d{6}Z\.zip"$')
PEOPLE = 2
PHOTOS_EACH = 2  # the first photos of the first people: several MB, many queue chunks


@pytest.fixture(params=BACKENDS)
def enrolled(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[Services, TestClient]]:
    with (
        running_services(request.param, tmp_path, face_pipeline) as services,
        app_client(services) as admin,
    ):
        _enroll(admin)
        yield services, admin


@pytest.fixture
def sqlite_enrolled(
    tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[Services, TestClient]]:
    with (
        running_services("sqlite", tmp_path, face_pipeline) as services,
        app_client(services) as admin,
    ):
        _enroll(admin)
        yield services, admin


def _enroll(admin: TestClient) -> None:
    for name, photos in sorted(identity_photos().items())[:PEOPLE]:
        files = [photo_file(p, "photos") for p in photos[:PHOTOS_EACH]]
        created = admin.post("/api/v1/people", data={"name": name}, files=files)
        assert created.status_code == 201, created.text


def _writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


def _last_export_row(admin: TestClient) -> dict[str, Any]:
    rows = admin.get("/api/v1/audit", params={"action": "export"}).json()["items"]
    return dict(rows[0])


def test_an_admin_downloads_the_whole_gallery(
    enrolled: tuple[Services, TestClient], tmp_path: Path
) -> None:
    services, admin = enrolled
    response = admin.get(URL)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert FILENAME.match(response.headers["content-disposition"])
    dest = tmp_path / "download.zip"
    dest.write_bytes(response.content)

    archive = read_archive(dest)  # every entry's checksum verified
    stored = read_gallery(make_session_factory(services.engine))
    assert archive.model_id == services.pipeline.model_id
    assert archive.people == stored.people
    assert len(archive.faces) == PEOPLE * PHOTOS_EACH == len(stored.faces)
    assert [f["embedding"] for f in archive.faces] == [bytes(f["embedding"]) for f in stored.faces]
    assert [f["box"] for f in archive.faces] == [f["box"] for f in stored.faces]
    for face in archive.faces:
        assert media_ref(archive.photo(face["media_ref"], face["media_type"])) == face["media_ref"]

    row = _last_export_row(admin)
    assert (row["actor_name"], row["target_kind"]) == ("tests-admin", "gallery")
    assert row["details"] == {"completed": True, **archive.manifest["counts"]}
    wait_until(lambda: not _writers(), what="the export writer thread to end")


def test_only_admins_may_export(sqlite_enrolled: tuple[Services, TestClient]) -> None:
    services, admin = sqlite_enrolled
    for role in (Role.OPERATOR, Role.VIEWER):
        headers = {API_KEY_HEADER: api_key_for(services, role, role.value)}
        refused = admin.get(URL, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
    with app_client(services, role=None) as anonymous:
        assert anonymous.get(URL).status_code == 401
    rows = admin.get("/api/v1/audit", params={"action": "export"}).json()
    assert rows["total"] == 0  # a refused export hands out nothing and records nothing


def test_a_client_gone_mid_download_stops_the_writer(
    sqlite_enrolled: tuple[Services, TestClient],
) -> None:
    services, admin = sqlite_enrolled
    key = api_key_for(services, Role.ADMIN, "stopper")
    seen = anyio.run(_download_then_vanish, admin, key)
    assert seen["status"] == 200
    assert seen["writers_while_stalled"], "the archive fit the queue: nothing was cut off"
    wait_until(lambda: not _writers(), what="the export writer thread to end")
    row = _last_export_row(admin)
    assert (row["actor_name"], row["details"]) == ("stopper", {"completed": False})


async def _download_then_vanish(admin: TestClient, key: str) -> dict[str, Any]:
    """Drive the app as a server would (ASGI 2.3, like uvicorn): take the first chunk, stop
    reading (send never returns), then report the client gone."""
    gone = anyio.Event()
    seen: dict[str, Any] = {}
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
        elif message.get("body"):
            seen["writers_while_stalled"] = _writers()
            gone.set()
            await anyio.sleep_forever()  # a client that stopped reading

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": URL,
        "raw_path": URL.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (API_KEY_HEADER.lower().encode(), key.encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    with anyio.fail_after(60):  # a hang here is the bug this test is for
        await admin.app(scope, receive, send)
    return seen


def test_the_download_holds_the_not_this_person_labels(
    sqlite_enrolled: tuple[Services, TestClient], tmp_path: Path
) -> None:
    services, admin = sqlite_enrolled
    person = admin.get("/api/v1/people").json()["items"][0]["id"]
    label = mark_not(admin, person, STRANGER)
    dest = tmp_path / "download.zip"
    dest.write_bytes(admin.get(URL).content)

    archive = read_archive(dest)
    stored = read_gallery(make_session_factory(services.engine)).negatives
    assert [n["id"] for n in archive.negatives] == [label["id"]]
    assert archive.negatives == [{**n, "embedding": bytes(n["embedding"])} for n in stored]
    ref = archive.negatives[0]["media_ref"]
    (crop,) = archive.crops([(ref, label["media_type"])])
    assert crop[1] is not None and media_ref(crop[1]) == ref
    counts = {"completed": True, **archive.manifest["counts"]}
    assert _last_export_row(admin)["details"] == counts
    assert (counts["negatives"], counts["negative_crops"]) == (1, 1)
    wait_until(lambda: not _writers(), what="the export writer thread to end")

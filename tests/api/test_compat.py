"""The replaced system's endpoints under /compat, driven the way its frontend called them:
JSON bodies for register/login, multipart forms with a photo `file` for enrolment and
queries, query strings for the lists, against real photos."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, app_client, photo_file, running_services
from tests.conftest import identity_photos

PASSWORD = "correct horse battery staple"


@dataclass
class Clients:
    operator: TestClient
    viewer: TestClient
    admin: TestClient
    anonymous: TestClient


@pytest.fixture(params=BACKENDS)
def clients(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[Clients]:
    with (
        running_services(request.param, tmp_path, face_pipeline) as services,
        app_client(services, Role.OPERATOR) as operator,
        app_client(services, Role.VIEWER) as viewer,
        app_client(services, Role.ADMIN) as admin,
        app_client(services, None) as anonymous,
    ):
        yield Clients(operator, viewer, admin, anonymous)


def _photo(identity: str, n: int = 0) -> Path:
    return identity_photos()[identity][n]


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["code"])


def _enroll(client: TestClient, photo: Path, **fields: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/compat/add_embedding", data=fields, files=[photo_file(photo)]
    )
    return response


def _query(client: TestClient, route: str, photo: Path) -> dict[str, Any]:
    return _ok(client.post(f"/compat/{route}", files=[photo_file(photo)]))


OBAMA = {
    "class_id": "1",
    "ten": "Barack Obama",
    "tuoi": "61",
    "gioitinh": "true",
    "noio": "Honolulu",
}
BIDEN = {"class_id": "2", "ten": "Joe Biden", "tuoi": "80", "gioitinh": "Nam", "noio": "Delaware"}


def test_register_then_login_gives_a_token_that_works(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with (
        running_services("sqlite", tmp_path, face_pipeline) as services,
        app_client(services, None) as client,
    ):
        body = {"username": "ada", "passwrd": PASSWORD}
        registered = _ok(client.post("/compat/register", json=body))
        assert registered["success"] and registered["role"] == "admin"  # the first account
        # Closed once an admin exists, as /api/v1/auth/register: anonymous callers get a 401.
        again = client.post("/compat/register", json={"username": "bob", "passwrd": PASSWORD})
        assert _error(again, 401) == "unauthorized"
        wrong = client.post("/compat/login", json={"username": "ada", "passwrd": "nope" * 3})
        assert _error(wrong, 401) == "unauthorized"
        login = _ok(client.post("/compat/login", json=body))
        assert login["token"] == login["access_token"] and login["token_type"] == "bearer"
        bearer = {"Authorization": f"Bearer {login['token']}"}
        assert client.get("/compat/index_status", headers=bearer).status_code == 200


def test_enroll_query_list_edit_and_delete_like_the_seed_frontend(clients: Clients) -> None:
    op = clients.operator
    assert _query(op, "query", _photo("fr_obama", 1)) == {}  # nobody enrolled: the seed's {}
    first = _ok(_enroll(op, _photo("fr_obama", 0), **OBAMA))
    assert first["class_id"] == "1" and first["nguoi"]["gioitinh"] == "Nam"
    # A known class_id only gains the photo; its other fields are ignored, as in the seed.
    second = _ok(_enroll(op, _photo("fr_obama", 2), class_id="1", ten="ignored"))
    assert second["nguoi"]["ten"] == "Barack Obama"
    _ok(_enroll(op, _photo("fr_biden", 0), **BIDEN))

    best = _query(op, "query", _photo("fr_obama", 3))
    assert best["class_id"] == "1" and best["nguoi"]["ten"] == "Barack Obama"
    assert best["image_id"] in {first["image_id"], second["image_id"]}
    top = _query(op, "query_top5", _photo("fr_biden", 1))["results"]
    assert top[0]["class_id"] == "2" and top[0]["nguoi"]["ten"] == "Joe Biden"
    assert [hit["score"] for hit in top] == sorted((hit["score"] for hit in top), reverse=True)

    _check_lists(op, first["image_id"], second["image_id"])
    _check_edit(op)
    _check_deletes(op, first["image_id"])


def _check_lists(op: TestClient, *obama_images: int) -> None:
    def people(**params: Any) -> dict[str, Any]:
        return dict(_ok(op.get("/compat/list_nguoi", params=params))["results"])

    assert [p["ten"] for p in people(query="obama")["nguoi_list"]] == ["Barack Obama"]
    assert people(tuoi=80)["nguoi_list"][0]["class_id"] == "2"
    assert people(noio="honolulu")["total"] == 1
    paged = people(page=2, page_size=1)
    assert paged["total"] == 2 and [p["class_id"] for p in paged["nguoi_list"]] == ["2"]
    found = _ok(op.get("/compat/search_embeddings", params={"class_id": "1"}))
    assert found["total"] == 2 and {r["image_id"] for r in found["results"]} == set(obama_images)
    assert found["results"][0]["image_path"].startswith("/api/v1/faces/")
    by_query = _ok(op.get("/compat/search_embeddings", params={"query": "1", "page_size": 1}))
    assert by_query["total_pages"] == 2 and len(by_query["results"]) == 1
    ids = _ok(op.get("/compat/get_image_ids_by_class/1"))
    assert ids["count"] == 2 and sorted(ids["image_ids"]) == sorted(map(str, obama_images))


def _check_edit(op: TestClient) -> None:
    edited = _ok(
        op.put("/compat/edit_embedding", data={"class_id": "1", "tuoi": "62", "noio": "DC"})
    )
    assert edited["updated_fields"] == ["noio", "tuoi"]
    assert edited["nguoi"] == {
        "class_id": "1",
        "ten": "Barack Obama",
        "tuoi": 62,
        "gioitinh": "Nam",
        "noio": "DC",
    }
    nothing = op.put("/compat/edit_embedding", data={"class_id": "1"})
    assert _error(nothing, 422) == "validation_error"


def _check_deletes(op: TestClient, image_id: int) -> None:
    gone = _ok(op.delete(f"/compat/delete_image/{image_id}"))
    assert gone["image_id"] == image_id and gone["class_id"] == "1"
    assert _ok(op.get("/compat/get_image_ids_by_class/1"))["count"] == 1
    assert _error(op.delete(f"/compat/delete_image/{image_id}"), 404) == "not_found"
    deleted = _ok(op.delete("/compat/delete_class/2"))
    assert deleted["images_deleted"] == 1
    assert _error(op.delete("/compat/delete_class/2"), 404) == "not_found"


def test_index_numbers_agree_with_v1_and_reset_rebuilds(clients: Clients) -> None:
    admin = clients.admin
    _ok(_enroll(admin, _photo("fr_obama", 0), **OBAMA))
    _ok(_enroll(admin, _photo("fr_biden", 0), **BIDEN))
    v1 = admin.get("/api/v1/index").json()
    status = _ok(admin.get("/compat/index_status"))
    # v1 adds the match threshold in force (issue 15) to the index status compat reports.
    threshold_fields = {"threshold", "threshold_source", "default_threshold", "calibration"}
    assert status["index"] == {k: v for k, v in v1.items() if k not in threshold_fields}
    assert set(v1) - set(status["index"]) == threshold_fields
    assert (status["num_vectors"], status["num_embeddings"]) == (v1["index_size"], 2)
    assert (status["num_unique_class_ids"], status["nguoi_total"]) == (2, 2)
    info = _ok(admin.get("/compat/vector_info"))
    assert (info["total"], info["dim"], info["model_id"]) == (2, v1["dim"], v1["model_id"])
    assert _error(clients.operator.post("/compat/reset_index"), 403) == "forbidden"
    before = admin.get("/api/v1/audit", params={"page_size": 200}).json()["total"]
    reset = _ok(admin.post("/compat/reset_index"))
    assert reset["num_vectors"] == 2 and reset["index"]["consistent"]
    assert reset["index"]["last_sync_kind"] == "rebuild"
    audit = admin.get("/api/v1/audit", params={"page_size": 200}).json()
    assert audit["total"] == before + 1
    assert _query(admin, "query", _photo("fr_obama", 1))["class_id"] == "1"


WRITES = [
    ("POST", "/compat/add_embedding"),
    ("PUT", "/compat/edit_embedding"),
    ("DELETE", "/compat/delete_image/1"),
    ("DELETE", "/compat/delete_class/1"),
    ("POST", "/compat/reset_index"),
]
READS = [
    ("GET", "/compat/list_nguoi"),
    ("GET", "/compat/search_embeddings?class_id=1"),
    ("GET", "/compat/get_image_ids_by_class/1"),
    ("GET", "/compat/index_status"),
    ("GET", "/compat/vector_info"),
    ("POST", "/compat/query"),
    ("POST", "/compat/query_top5"),
]


def test_a_viewer_reads_and_queries_but_is_refused_writes(clients: Clients) -> None:
    _ok(_enroll(clients.operator, _photo("fr_obama", 0), **OBAMA))
    for method, url in WRITES:
        refused = clients.viewer.request(method, url)
        assert _error(refused, 403) == "forbidden", (method, url)
    assert _ok(clients.viewer.get("/compat/list_nguoi"))["results"]["total"] == 1
    assert _query(clients.viewer, "query", _photo("fr_obama", 1))["class_id"] == "1"


def test_without_credentials_every_route_but_login_and_register_is_401(clients: Clients) -> None:
    for method, url in WRITES + READS:
        response = clients.anonymous.request(method, url)
        assert _error(response, 401) == "unauthorized", (method, url)
        assert response.headers["www-authenticate"] == "Bearer"


def test_unknown_ids_are_404(clients: Clients) -> None:
    op = clients.operator
    for response in (
        op.delete("/compat/delete_image/999999"),
        op.delete("/compat/delete_class/nobody"),
        op.get("/compat/get_image_ids_by_class/nobody"),
        op.get("/compat/search_embeddings", params={"class_id": "nobody"}),
        op.put("/compat/edit_embedding", data={"class_id": "nobody", "ten": "x"}),
    ):
        assert _error(response, 404) == "not_found"


def test_bad_input_is_refused_in_the_one_error_shape(clients: Clients) -> None:
    op = clients.operator
    no_name = _enroll(op, _photo("fr_obama", 0), class_id="9")  # a new person needs `ten`
    assert _error(no_name, 422) == "validation_error"
    broken = op.post(
        "/compat/add_embedding",
        data=OBAMA,
        files=[("file", ("x.jpg", b"not a photo", "image/jpeg"))],
    )
    assert _error(broken, 400) == "image_invalid"
    too_old = _enroll(op, _photo("fr_obama", 0), **{**OBAMA, "tuoi": "151"})
    assert _error(too_old, 422) == "validation_error"
    assert _error(op.get("/compat/search_embeddings"), 422) == "validation_error"
    assert _ok(op.get("/compat/list_nguoi"))["results"]["total"] == 0  # nothing half-written

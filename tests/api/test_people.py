"""People CRUD, search and pagination through HTTP, on every database backend."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from facebank.errors import ValidationFailedError
from facebank.pipeline.pipeline import FacePipeline
from facebank.store.people import PersonFields
from tests.api.conftest import photo_file, running_app
from tests.conftest import identity_photos


def _create(client: TestClient, **fields: object) -> dict:
    response = client.post("/api/v1/people", json=fields)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_read_update_delete(client: TestClient) -> None:
    person = _create(
        client,
        name="Ada Lovelace",
        age=36,
        gender="female",
        address="12 St James's Square, London",
        external_id="S-1815",
        metadata={"class_id": "CS101"},
    )
    assert person["face_count"] == 0 and person["faces"] == []
    fetched = client.get(f"/api/v1/people/{person['id']}").json()
    assert fetched["metadata"] == {"class_id": "CS101"}
    assert fetched["external_id"] == "S-1815"

    updated = client.patch(f"/api/v1/people/{person['id']}", json={"age": 37, "address": None})
    assert updated.status_code == 200
    assert updated.json()["age"] == 37 and updated.json()["address"] is None
    assert updated.json()["name"] == "Ada Lovelace"

    deleted = client.delete(f"/api/v1/people/{person['id']}")
    assert deleted.status_code == 200
    assert client.get(f"/api/v1/people/{person['id']}").json()["error"]["code"] == "not_found"


def test_duplicate_external_id_is_a_conflict(client: TestClient) -> None:
    _create(client, name="One", external_id="dup-1")
    response = client.post("/api/v1/people", json={"name": "Two", "external_id": "dup-1"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


def test_search_filters_and_pagination(client: TestClient) -> None:
    for i in range(7):
        _create(client, name=f"Student {i}", age=18 + i, address="Hanoi" if i % 2 else "Hue")
    _create(client, name="Teacher Nguyen", age=45, address="Hanoi")

    page = client.get("/api/v1/people", params={"q": "student", "page": 2, "page_size": 3}).json()
    assert page["total"] == 7 and page["pages"] == 3 and len(page["items"]) == 3
    assert [p["name"] for p in page["items"]] == ["Student 3", "Student 4", "Student 5"]

    aged = client.get("/api/v1/people", params={"age_min": 20, "age_max": 22}).json()
    assert sorted(p["age"] for p in aged["items"]) == [20, 21, 22]

    hanoi = client.get("/api/v1/people", params={"address": "hanoi"}).json()
    assert hanoi["total"] == 4

    exact = client.get("/api/v1/people", params={"name": "Teacher Nguyen"}).json()
    assert exact["total"] == 1


def test_create_with_photos_is_atomic(client: TestClient) -> None:
    photos = identity_photos()["fr_obama"]
    blank = ("photos", ("blank.png", _blank_png(), "image/png"))
    response = client.post(
        "/api/v1/people",
        data={"name": "Barack Obama", "external_id": "obama"},
        files=[photo_file(photos[0], "photos"), blank],
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "no_face" and error["details"]["photo_index"] == 1
    assert client.get("/api/v1/people", params={"external_id": "obama"}).json()["total"] == 0
    assert client.get("/api/v1/index").json()["index_size"] == 0

    response = client.post(
        "/api/v1/people",
        data={"name": "Barack Obama", "age": "61", "metadata": json.dumps({"role": "president"})},
        files=[photo_file(p, "photos") for p in photos[:2]],
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["face_count"] == 2 and len(created["faces"]) == 2
    assert created["age"] == 61 and created["metadata"] == {"role": "president"}
    status = client.get("/api/v1/index").json()
    assert status["index_size"] == 2 and status["consistent"]


def test_faces_add_list_download_delete(client: TestClient) -> None:
    photos = identity_photos()["fr_biden"]
    person = _create(client, name="Joe Biden")
    added = client.post(
        f"/api/v1/people/{person['id']}/faces", files=[photo_file(photos[0], "photos")]
    )
    assert added.status_code == 201, added.text
    face = added.json()[0]
    assert face["person_id"] == person["id"] and len(face["landmarks"]) == 5
    assert face["quality"]["face_px"] > 20

    listed = client.get(f"/api/v1/people/{person['id']}/faces").json()
    assert [f["id"] for f in listed] == [face["id"]]

    image = client.get(face["image_url"])
    assert image.status_code == 200 and image.content == photos[0].read_bytes()

    assert client.delete(f"/api/v1/faces/{face['id']}").status_code == 200
    assert client.get(face["image_url"]).status_code == 404
    assert client.get(f"/api/v1/people/{person['id']}").json()["face_count"] == 0
    assert client.get("/api/v1/index").json()["index_size"] == 0


def test_deleting_a_person_removes_photos_and_embeddings(client: TestClient) -> None:
    photos = identity_photos()["fr_kit_harington"]
    response = client.post(
        "/api/v1/people", data={"name": "Kit"}, files=[photo_file(p, "photos") for p in photos[:2]]
    )
    person = response.json()
    urls = [f["image_url"] for f in person["faces"]]
    assert client.delete(f"/api/v1/people/{person['id']}").json()["faces_deleted"] == 2
    assert all(client.get(url).status_code == 404 for url in urls)
    recognized = client.post("/api/v1/recognize", files=[photo_file(photos[-1])]).json()
    assert recognized["faces"][0]["candidates"] == []


def _blank_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 200, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


# The person contract at its edges: (field, value, accepted). The API (create and update) and
# the store's own input type must agree on every one; SQLite alone would store any length.
EDGES = [
    ("age", 0, True),
    ("age", 150, True),
    ("age", 151, False),
    ("age", -1, False),
    ("age", True, False),
    ("name", "n" * 200, True),
    ("name", "n" * 201, False),
    ("name", " ", False),
    ("address", "a" * 500, True),
    ("address", "a" * 501, False),
    ("gender", "g" * 32, True),
    ("gender", "g" * 33, False),
    ("external_id", "e" * 128, True),
    ("external_id", "e" * 129, False),
    ("external_id", "", False),
]


@pytest.fixture(scope="module")
def edges_client(
    tmp_path_factory: pytest.TempPathFactory, face_pipeline: FacePipeline
) -> Iterator[TestClient]:
    with running_app("sqlite", tmp_path_factory.mktemp("edges"), face_pipeline) as client:
        yield client


@pytest.mark.parametrize(
    ("field", "value", "accepted"), EDGES, ids=[f"{f}-{len(str(v))}-{a}" for f, v, a in EDGES]
)
def test_api_and_store_accept_the_same_person_values(
    edges_client: TestClient, field: str, value: object, accepted: bool
) -> None:
    body = {"name": "Edge", field: value}
    created = edges_client.post("/api/v1/people", json=body)
    target = created.json()["id"] if accepted else _create(edges_client, name="Edge")["id"]
    updated = edges_client.patch(f"/api/v1/people/{target}", json={field: value})
    if accepted:
        assert (created.status_code, updated.status_code) == (201, 200), created.text
        assert created.json()[field] == value == updated.json()[field]
        assert PersonFields(**body).model_dump()[field] == value
    else:
        assert (created.status_code, updated.status_code) == (422, 422), created.text
        assert created.json()["error"]["code"] == "validation_error"
        assert created.json()["error"]["details"]["problems"][0]["field"] == field
        with pytest.raises(ValidationFailedError):
            PersonFields(**body)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"age_min": 150, "age_max": 150}, 200),
        ({"age_max": 151}, 422),
        ({"age_min": -1}, 422),
        ({"name": "n" * 200, "q": "n" * 200}, 200),
        ({"q": "n" * 201}, 422),
        ({"address": "a" * 501}, 422),
        ({"external_id": "e" * 129}, 422),
    ],
)
def test_search_takes_the_same_limits(
    edges_client: TestClient, params: dict[str, object], status: int
) -> None:
    assert edges_client.get("/api/v1/people", params=params).status_code == status


def test_search_sorts_by_any_column_with_missing_values_last(client: TestClient) -> None:
    _create(client, name="bravo", age=30, address="Hue")
    _create(client, name="Alpha", age=None, address="hanoi")
    _create(client, name="charlie", age=20)
    _create(client, name="Delta", age=30, address="Da Nang")

    def names(sort: str, **params: object) -> list[str]:
        page = client.get("/api/v1/people", params={"sort": sort, **params})
        assert page.status_code == 200, page.text
        return [p["name"] for p in page.json()["items"]]

    assert names("name") == ["Alpha", "bravo", "charlie", "Delta"]  # case does not matter
    assert names("-name") == ["Delta", "charlie", "bravo", "Alpha"]
    # Ties (age 30) go by id in the sort's direction; no age comes last both ways.
    assert names("age") == ["charlie", "bravo", "Delta", "Alpha"]
    assert names("-age") == ["Delta", "bravo", "charlie", "Alpha"]
    assert names("address") == ["Delta", "Alpha", "bravo", "charlie"]
    assert names("-id") == ["Delta", "charlie", "Alpha", "bravo"]
    assert names("-created_at", page_size=1, page=2) == ["charlie"]
    assert names("-face_count") == ["Delta", "charlie", "Alpha", "bravo"]  # no faces: by id
    assert names("name", q="a", age_min=25) == ["bravo", "Delta"]  # with filters and pages


@pytest.mark.parametrize("sort", ["", "nope", "--name", "metadata", "name,age"])
def test_search_refuses_an_unknown_sort(edges_client: TestClient, sort: str) -> None:
    response = edges_client.get("/api/v1/people", params={"sort": sort})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"

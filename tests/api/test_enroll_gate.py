"""The enrollment gate over HTTP: poor photos are 422 low_quality naming the check, a face
of another enrolled person is 409 duplicate_face naming them unless allowed, on every
enrolling route (people, their faces, the compat add_embedding)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import photo_file
from tests.conftest import PEOPLE
from tests.poor_photos import OBAMA, blurred, tiny, turned

OBAMA_OTHER = PEOPLE / "fr_obama" / "obama2.jpg"  # another photo of him
BIDEN = PEOPLE / "fr_biden" / "biden.jpg"


def _create(client: TestClient, name: str, data: bytes, **fields: str) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/v1/people",
        data={"name": name, **fields},
        files=[("photos", ("photo.jpg", data, "image/jpeg"))],
    )
    return response


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    details: dict[str, Any] = error.get("details", {})
    return details


@pytest.mark.parametrize(
    ("make", "check", "bound"),
    [(blurred, "blur", "minimum"), (tiny, "face_px", "minimum"), (turned, "yaw", "maximum")],
)
def test_a_poor_photo_is_refused_naming_the_check(
    sqlite_client: TestClient, make: Callable[[], bytes], check: str, bound: str
) -> None:
    details = _error(_create(sqlite_client, "poor", make()), 422, "low_quality")
    assert details["check"] == check
    value, limit = details["value"], details[bound]
    assert (abs(value) > limit) if bound == "maximum" else (value < limit)
    assert sqlite_client.get("/api/v1/people").json()["total"] == 0  # nothing half-written


def test_adding_a_poor_photo_to_a_person_is_refused(sqlite_client: TestClient) -> None:
    person = _create(sqlite_client, "Barack Obama", OBAMA.read_bytes()).json()
    response = sqlite_client.post(
        f"/api/v1/people/{person['id']}/faces",
        files=[("photos", ("blurred.jpg", blurred(), "image/jpeg"))],
    )
    assert _error(response, 422, "low_quality")["check"] == "blur"
    assert len(sqlite_client.get(f"/api/v1/people/{person['id']}/faces").json()) == 1


def test_obama_under_a_new_name_is_a_duplicate_unless_allowed(sqlite_client: TestClient) -> None:
    obama = _create(sqlite_client, "Barack Obama", OBAMA.read_bytes()).json()
    _create(sqlite_client, "Joe Biden", BIDEN.read_bytes())
    for photo in (OBAMA, OBAMA_OTHER):  # the same photo, and another one of him
        details = _error(
            _create(sqlite_client, "Someone New", photo.read_bytes()), 409, "duplicate_face"
        )
        assert (details["person_id"], details["person_name"]) == (obama["id"], "Barack Obama")
        assert details["score"] >= details["threshold"]
    assert sqlite_client.get("/api/v1/people").json()["total"] == 2

    allowed = _create(
        sqlite_client, "Someone New", OBAMA_OTHER.read_bytes(), allow_duplicate="true"
    )
    assert allowed.status_code == 201, allowed.text


def test_more_photos_of_the_same_person_are_no_duplicate(sqlite_client: TestClient) -> None:
    obama = _create(sqlite_client, "Barack Obama", OBAMA.read_bytes()).json()
    response = sqlite_client.post(
        f"/api/v1/people/{obama['id']}/faces", files=[photo_file(OBAMA_OTHER, "photos")]
    )
    assert response.status_code == 201, response.text


def test_adding_obama_to_another_person_is_a_duplicate(sqlite_client: TestClient) -> None:
    obama = _create(sqlite_client, "Barack Obama", OBAMA.read_bytes()).json()
    biden = _create(sqlite_client, "Joe Biden", BIDEN.read_bytes()).json()
    route = f"/api/v1/people/{biden['id']}/faces"
    response = sqlite_client.post(route, files=[photo_file(OBAMA_OTHER, "photos")])
    assert _error(response, 409, "duplicate_face")["person_id"] == obama["id"]
    allowed = sqlite_client.post(
        route, data={"allow_duplicate": "true"}, files=[photo_file(OBAMA_OTHER, "photos")]
    )
    assert allowed.status_code == 201, allowed.text


def test_the_compat_enroll_route_applies_both_checks(sqlite_client: TestClient) -> None:
    def enroll(data: bytes, class_id: str, **fields: str) -> httpx.Response:
        response: httpx.Response = sqlite_client.post(
            "/compat/add_embedding",
            data={"class_id": class_id, "ten": f"person {class_id}", **fields},
            files=[("file", ("photo.jpg", data, "image/jpeg"))],
        )
        return response

    assert _error(enroll(tiny(), "1"), 422, "low_quality")["check"] == "face_px"
    assert enroll(OBAMA.read_bytes(), "1").status_code == 200
    assert enroll(OBAMA_OTHER.read_bytes(), "1").status_code == 200  # the same class
    details = _error(enroll(OBAMA_OTHER.read_bytes(), "2"), 409, "duplicate_face")
    assert details["person_name"] == "person 1"
    assert enroll(OBAMA_OTHER.read_bytes(), "2", allow_duplicate="true").status_code == 200


def test_a_malformed_allow_duplicate_is_refused(sqlite_client: TestClient) -> None:
    response = _create(sqlite_client, "x", OBAMA.read_bytes(), allow_duplicate="maybe")
    _error(response, 422, "validation_error")

"""Enrolling the one face a caller points at (`box`) from a photo of several faces."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.conftest import photo_file
from tests.conftest import GROUPS, identity_photos

GROUP = GROUPS / "obama_and_biden.jpg"  # three faces of similar size
# The third face (the girl in front) is turned sideways: the quality gate refuses it.
TURNED = 2


def _boxes(client: TestClient, photo: Path) -> list[list[float]]:
    body = client.post("/api/v1/detect", files=[photo_file(photo)]).json()
    return [face["box"] for face in body["faces"]]


def _box_field(box: list[float]) -> str:
    return ",".join(str(v) for v in box)


def _identify(client: TestClient, photo: Path) -> list[str | None]:
    body = client.post("/api/v1/recognize", files=[photo_file(photo)]).json()
    return [face["match"] and face["match"]["name"] for face in body["faces"]]


def test_each_face_of_a_group_photo_can_be_enrolled_by_its_box(sqlite_client: TestClient) -> None:
    boxes = _boxes(sqlite_client, GROUP)
    assert len(boxes) == 3
    refused = sqlite_client.post(
        "/api/v1/people", data={"name": "anyone"}, files=[photo_file(GROUP, "photos")]
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "multiple_faces"

    for i, box in enumerate(boxes):
        response = sqlite_client.post(
            "/api/v1/people",
            data={"name": f"face {i}", "box": _box_field(box)},
            files=[photo_file(GROUP, "photos")],
        )
        if i == TURNED:  # the gate looks at the face pointed at, not the largest
            assert response.status_code == 422, response.text
            assert response.json()["error"]["details"]["check"] == "yaw"
            continue
        assert response.status_code == 201, response.text
        (face,) = response.json()["faces"]
        assert face["box"] == box  # the face pointed at, not the largest
    # Each enrolled face is now known under its own name, wherever it is in the photo.
    names = sorted(n or "" for n in _identify(sqlite_client, GROUP))
    assert names == ["", "face 0", "face 1"]


def test_a_box_adds_that_face_to_an_existing_person(sqlite_client: TestClient) -> None:
    biden = identity_photos()["fr_biden"][0]
    person = sqlite_client.post(
        "/api/v1/people", data={"name": "Biden"}, files=[photo_file(biden, "photos")]
    ).json()
    target = _boxes(sqlite_client, GROUP)[1]
    response = sqlite_client.post(
        f"/api/v1/people/{person['id']}/faces",
        data={"box": _box_field(target)},
        files=[photo_file(GROUP, "photos")],
    )
    assert response.status_code == 201, response.text
    assert [f["box"] for f in response.json()] == [target]
    faces = sqlite_client.get(f"/api/v1/people/{person['id']}/faces").json()
    assert len(faces) == 2


def test_a_box_where_no_face_is_refused(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/api/v1/people",
        data={"name": "nobody", "box": "0,0,20,20"},
        files=[photo_file(GROUP, "photos")],
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "no_face"
    assert sqlite_client.get("/api/v1/people", params={"q": "nobody"}).json()["total"] == 0


def test_malformed_box_requests_are_refused(sqlite_client: TestClient) -> None:
    box = _box_field(_boxes(sqlite_client, GROUP)[0])
    one = [photo_file(GROUP, "photos")]
    cases = [
        ({"name": "a", "box": "1,2,3"}, one),
        ({"name": "a", "box": "10,10,5,5"}, one),
        ({"name": "a", "box": "a,b,c,d"}, one),
        ({"name": "a", "box": "nan,1,2,3"}, one),
        ({"name": "a", "box": box, "face_choice": "largest"}, one),
        ({"name": "a", "box": box}, one + one),
    ]
    for data, files in cases:
        response = sqlite_client.post("/api/v1/people", data=data, files=files)
        assert response.status_code == 422, (data, response.text)
        assert response.json()["error"]["code"] == "validation_error", data
    assert sqlite_client.get("/api/v1/people").json()["total"] == 0

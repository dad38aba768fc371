""" "Not this person" over HTTP (issue 12), with real photos from ../shared/faces.

At a low request threshold (0.1) a photo of deepface_id08 (never enrolled) is named as
deepface_id07, its most similar other person (cosine 0.29). Marking that photo "not
deepface_id07" stops the false match, for the photo and a re-encoded copy of it, while
deepface_id07's own other photos still match them. The label reaches a second worker on
the same database within the refresh bound, and survives re-embedding under a new pack.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from tests.api.conftest import BACKENDS, app_client, make_settings, photo_file
from tests.conftest import PEOPLE, identity_photos
from tests.dbservers import fresh_database
from tests.waiting import wait_until

LOW = 0.1  # a request threshold low enough to name a stranger
REFRESH_S = 0.2

STRANGER = PEOPLE / "deepface_id08" / "img35.jpg"
B_ENROLLED = [PEOPLE / "deepface_id07" / n for n in ("img33.jpg", "img31.jpg")]
B_OTHERS = [PEOPLE / "deepface_id07" / n for n in ("img29.jpg", "img30.jpg", "img32.jpg")]


Probe = Path | bytes  # a photo on disk, or one made in the test


def re_encoded(path: Path, scale: float = 0.6, quality: int = 70) -> bytes:
    """The same photo resized and saved again as JPEG: a near-duplicate."""
    image = Image.open(path).convert("RGB")
    size = (int(image.width * scale), int(image.height * scale))
    buffer = io.BytesIO()
    image.resize(size, Image.Resampling.BILINEAR).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _file(photo: Probe, field: str = "file") -> tuple[str, tuple[str, bytes, str]]:
    if isinstance(photo, Path):
        return photo_file(photo, field)
    return (field, ("probe.jpg", photo, "application/octet-stream"))


def recognize(client: TestClient, photo: Probe, threshold: float | None = None) -> dict[str, Any]:
    params = {"top_k": 5} if threshold is None else {"threshold": threshold, "top_k": 5}
    answer = client.post("/api/v1/recognize", files=[_file(photo)], params=params)
    assert answer.status_code == 200, answer.text
    face: dict[str, Any] = answer.json()["faces"][0]
    return face


def matched(client: TestClient, photo: Probe, threshold: float | None = None) -> int | None:
    match = recognize(client, photo, threshold)["match"]
    return None if match is None else int(match["person_id"])


def verify(client: TestClient, photo: Probe, person_id: int) -> bool:
    answer = client.post(
        "/api/v1/verify",
        files=[_file(photo, "file_a")],
        data={"person_id": str(person_id)},
        params={"threshold": LOW},
    )
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["match"])


def enroll(client: TestClient, name: str, photos: list[Path]) -> int:
    files = [photo_file(p, "photos") for p in photos]
    answer = client.post("/api/v1/people", data={"name": name}, files=files)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def mark_not(client: TestClient, person_id: int, photo: Probe) -> dict[str, Any]:
    answer = client.post(f"/api/v1/people/{person_id}/negatives", files=[_file(photo)])
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


@pytest.fixture(params=BACKENDS)
def gallery(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[TestClient, int, int]]:
    """A client over B (deepface_id07) and Obama, and their ids."""
    with ExitStack() as stack:
        url = (
            "" if request.param == "sqlite" else stack.enter_context(fresh_database(request.param))
        )
        services = build_services(make_settings(tmp_path, url), pipeline=face_pipeline)
        stack.callback(services.close)
        services.start()
        client = stack.enter_context(app_client(services, Role.OPERATOR))
        b = enroll(client, "B", B_ENROLLED)
        obama = enroll(client, "Obama", identity_photos()["fr_obama"][:2])
        yield client, b, obama


def test_not_this_person_stops_a_low_threshold_false_match(
    gallery: tuple[TestClient, int, int],
) -> None:
    client, b, obama = gallery
    copy = re_encoded(STRANGER)
    assert matched(client, STRANGER, LOW) == b  # the false match
    assert matched(client, copy, LOW) == b

    assert verify(client, STRANGER, b) is True
    label = mark_not(client, b, STRANGER)
    assert label["person_id"] == b and label["unknown_face_id"] is None
    assert label["media_type"] == "png" and len(label["landmarks"]) == 5

    for probe in (STRANGER, copy):
        face = recognize(client, probe, LOW)
        assert face["match"] is None or face["match"]["person_id"] != b
        # top_k is still filled with the people that remain
        assert [c["person_id"] for c in face["candidates"]] == [obama]
    for own in B_OTHERS:  # B's other photos are no near-duplicates: they still match B
        assert matched(client, own) == b
    assert verify(client, STRANGER, b) is False  # 1:1 against B says no as well

    listed = client.get(f"/api/v1/people/{b}/negatives").json()
    assert [n["id"] for n in listed] == [label["id"]]
    image = client.get(label["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert client.get(f"/api/v1/people/{obama}/negatives").json() == []

    gone = client.delete(f"/api/v1/people/{b}/negatives/{label['id']}")
    assert gone.status_code == 200 and gone.json() == {"deleted": label["id"], "person_id": b}
    assert matched(client, STRANGER, LOW) == b  # the label was the only thing in the way
    assert client.get(label["image_url"]).status_code == 404

    mark_not(client, b, STRANGER)
    assert client.delete(f"/api/v1/people/{b}").is_success  # its labels go with the person
    assert client.get(f"/api/v1/people/{b}/negatives").status_code == 404


def test_refusals_are_clear(gallery: tuple[TestClient, int, int]) -> None:
    client, b, obama = gallery
    base = f"/api/v1/people/{b}/negatives"
    label = mark_not(client, b, STRANGER)

    def code(answer: Any) -> tuple[int, str]:
        return answer.status_code, answer.json()["error"]["code"]

    assert code(client.post("/api/v1/people/999999/negatives", files=[_file(STRANGER)])) == (
        404,
        "not_found",
    )
    assert code(client.get("/api/v1/people/999999/negatives")) == (404, "not_found")
    # a label belongs to its person: not reachable under another one
    assert code(client.delete(f"/api/v1/people/{obama}/negatives/{label['id']}"))[0] == 404
    assert code(client.get(f"{base}/999999/image"))[0] == 404
    assert code(client.delete(f"{base}/999999"))[0] == 404
    assert code(client.post(base, json={"unknown_face_id": 999999})) == (404, "not_found")
    assert code(client.post(base, json={"unknown_face_id": "x"}))[0] == 422
    assert code(client.post(base, json={}))[0] == 422
    assert code(client.post(base, data={"face_choice": "auto"}, files=[]))[0] in (400, 422)
    both = client.post(base, data={"unknown_face_id": "1"}, files=[_file(STRANGER)])
    assert code(both)[0] == 422
    group = sorted((PEOPLE.parent / "group_photos").iterdir())[0]
    assert code(client.post(base, files=[_file(group)], data={"box": "1,2,3"}))[0] == 422
    yale = sorted((PEOPLE.parent / "yale").glob("*/*"))[0]
    assert client.post(base, files=[_file(yale)]).status_code in (201, 422)
    assert code(client.post(base, content=b"x", headers={"content-type": "text/plain"}))[0] == 422


def test_a_viewer_reads_but_does_not_mark(
    gallery: tuple[TestClient, int, int],
) -> None:
    client, b, _ = gallery
    services = client.app.state.services  # type: ignore[attr-defined]
    with app_client(services, Role.VIEWER) as viewer:
        refused = viewer.post(f"/api/v1/people/{b}/negatives", files=[_file(STRANGER)])
        assert refused.status_code == 403
        assert viewer.get(f"/api/v1/people/{b}/negatives").status_code == 200


@pytest.fixture(params=BACKENDS)
def two_workers(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[list[Services]]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'shared.db'}"
        else:
            url = stack.enter_context(fresh_database(request.param))
        workers = []
        for name in ("a", "b"):
            settings = make_settings(
                tmp_path / name, url, negatives_refresh_s=REFRESH_S,
                index_follow_interval_s=REFRESH_S,
            )  # fmt: skip
            services = build_services(settings, pipeline=face_pipeline)
            stack.callback(services.close)
            services.start()
            workers.append(services)
        yield workers


def test_a_label_added_on_one_worker_applies_on_the_other(two_workers: list[Services]) -> None:
    a, b = two_workers
    with app_client(a, Role.OPERATOR) as on_a, app_client(b, Role.OPERATOR) as on_b:
        person = enroll(on_a, "B", B_ENROLLED)
        wait_until(lambda: b.index.size == a.index.size, 10, "worker b to follow the gallery")
        assert matched(on_b, STRANGER, LOW) == person
        label = mark_not(on_a, person, STRANGER)
        assert matched(on_a, STRANGER, LOW) is None  # its own worker: at once
        wait_until(lambda: matched(on_b, STRANGER, LOW) is None, 10, "worker b to apply it")
        assert on_b.delete(f"/api/v1/people/{person}/negatives/{label['id']}").is_success
        wait_until(lambda: matched(on_a, STRANGER, LOW) == person, 10, "worker a to drop it")

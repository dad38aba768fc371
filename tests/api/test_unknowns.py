"""The unknown faces' review queue through HTTP, on real photos: recognise keeps unmatched
faces when asked, the cluster shows up, and naming, adding or dismissing it does what it
says (the person is recognised afterwards; the queue is emptied; history stays)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import app_client, photo_file, running_app, running_services
from tests.conftest import identity_photos

STRANGER = "fr_obama"  # 5 photos: 4 kept as unknown, the last one recognised afterwards
OTHER = "deepface_id06"
CLUSTERS = "/api/v1/unknowns/clusters"


def recognize(client: TestClient, photo: Path, **data: str) -> dict[str, Any]:
    """The photo's main face (one of deepface_id06's photos has a stranger behind)."""
    response = client.post(
        "/api/v1/recognize", files=[photo_file(photo)], data=data, params={"max_faces": 1}
    )
    assert response.status_code == 200, response.text
    face: dict[str, Any] = response.json()["faces"][0]
    return face


def keep_all(client: TestClient, photos: list[Path]) -> int:
    faces = [recognize(client, p, keep_unknown="true") for p in photos]
    assert all(f["match"] is None for f in faces)
    clusters = {f["unknown_cluster_id"] for f in faces}
    assert len(clusters) == 1 and None not in clusters
    return int(clusters.pop())


def open_clusters(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get(CLUSTERS, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_keep_name_and_recognise_the_new_person(client: TestClient) -> None:
    photos = identity_photos()[STRANGER]
    assert recognize(client, photos[0])["unknown_face_id"] is None  # not asked: not kept
    assert open_clusters(client) == []
    cluster_id = keep_all(client, photos[:4])

    listed = open_clusters(client)
    assert [(c["id"], c["size"], c["status"]) for c in listed] == [(cluster_id, 4, "open")]
    detail = client.get(f"{CLUSTERS}/{cluster_id}").json()
    assert len(detail["faces"]) == 4
    image = client.get(detail["representative_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"

    named = client.post(f"{CLUSTERS}/{cluster_id}/name", json={"name": "Barack"})
    assert named.status_code == 200, named.text
    body = named.json()
    assert body["cluster"]["status"] == "named" and body["faces_deleted"] == 4
    assert body["person"]["name"] == "Barack" and len(body["person"]["faces"]) == 4
    assert body["refused"] == []
    assert body["cluster"]["person_id"] == body["person"]["id"]
    for face in body["person"]["faces"]:  # the crops became photos: kept, not released
        assert client.get(face["image_url"]).status_code == 200

    match = recognize(client, photos[4])["match"]
    assert match is not None and match["person_id"] == body["person"]["id"]
    assert open_clusters(client) == []
    history = open_clusters(client, status="named")
    assert [c["id"] for c in history] == [cluster_id]
    assert client.get(detail["representative_url"]).status_code == 404
    again = client.post(f"{CLUSTERS}/{cluster_id}/dismiss")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_add_to_an_existing_person(sqlite_client: TestClient) -> None:
    client = sqlite_client
    photos = identity_photos()[OTHER]
    person = client.post("/api/v1/people", json={"name": "Six", "external_id": "six"}).json()
    cluster_id = keep_all(client, photos[:3])
    clash = client.post(f"{CLUSTERS}/{cluster_id}/name", json={"name": "6", "external_id": "six"})
    assert clash.status_code == 409, clash.text
    crops = [f["image_url"] for f in client.get(f"{CLUSTERS}/{cluster_id}").json()["faces"]]
    assert [client.get(url).status_code for url in crops] == [200] * 3  # a failed name keeps them
    added = client.post(f"{CLUSTERS}/{cluster_id}/add", json={"person_id": person["id"]})
    assert added.status_code == 200, added.text
    assert added.json()["cluster"]["status"] == "added"
    assert len(client.get(f"/api/v1/people/{person['id']}/faces").json()) == 3
    match = recognize(client, photos[4])["match"]
    assert match is not None and match["person_id"] == person["id"]
    missing = client.post(f"{CLUSTERS}/{cluster_id}/add", json={"person_id": 999_999})
    assert missing.status_code == 404


def test_dismiss_delete_and_unknown_ids(sqlite_client: TestClient) -> None:
    client = sqlite_client
    photos = identity_photos()[OTHER]
    kept = [recognize(client, p, keep_unknown="true") for p in photos[:3]]
    cluster_id = kept[0]["unknown_cluster_id"]

    (listed,) = open_clusters(client)
    assert listed["seen"] == {
        "sessions": [], "session_count": 0, "cameras": [], "camera_count": 0, "uploads": 3,
    }  # fmt: skip

    gone = client.delete(f"/api/v1/unknowns/faces/{kept[0]['unknown_face_id']}")
    assert gone.status_code == 200
    assert client.get(f"{CLUSTERS}/{cluster_id}").json()["size"] == 2
    dismissed = client.post(f"{CLUSTERS}/{cluster_id}/dismiss")
    assert dismissed.status_code == 200 and dismissed.json()["faces_deleted"] == 2
    assert open_clusters(client) == [] and len(open_clusters(client, status="dismissed")) == 1
    for status in ("any", "open,dismissed", "dismissed,named"):
        assert [c["id"] for c in open_clusters(client, status=status)] == [cluster_id]
    assert open_clusters(client, status="named,added") == []
    for bad in ("sideways", "any,open", "open,", ",", ""):
        refused = client.get(CLUSTERS, params={"status": bad})
        assert refused.status_code == 422 and "error" in refused.json(), (bad, refused.text)

    for method, url in [
        ("GET", f"{CLUSTERS}/999999"),
        ("POST", f"{CLUSTERS}/999999/dismiss"),
        ("GET", "/api/v1/unknowns/faces/999999/image"),
        ("DELETE", f"/api/v1/unknowns/faces/{kept[0]['unknown_face_id']}"),
        ("DELETE", "/api/v1/unknowns/faces/99999999999999999999"),
    ]:
        response = client.request(method, url)
        assert response.status_code in (404, 422), (url, response.text)
        assert "error" in response.json()
    assert client.get(CLUSTERS, params={"order": "sideways"}).status_code == 422


def test_keeping_by_setting_filters_and_a_viewer_reads(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    photos = identity_photos()
    with running_services(
        "sqlite", tmp_path, face_pipeline, unknown_keep_recognize=True, unknown_flag_interval_s=0
    ) as services:
        with app_client(services) as admin:
            first = recognize(admin, photos[STRANGER][0])
            assert first["unknown_cluster_id"] is not None
            assert (
                recognize(admin, photos[OTHER][0], keep_unknown="false")["unknown_face_id"] is None
            )
            for photo in photos[OTHER][:2]:
                recognize(admin, photo)
        with app_client(services, Role.VIEWER) as viewer:
            largest = open_clusters(viewer, order="largest")
            assert [c["size"] for c in largest] == [2, 1]
            newest = open_clusters(viewer, order="newest")
            assert [c["size"] for c in newest] == [2, 1]
            assert open_clusters(viewer, session_id=5) == []
            later = open_clusters(viewer, seen_after="2999-01-01T00:00:00Z")
            assert later == []
            refused = viewer.post(f"{CLUSTERS}/{first['unknown_cluster_id']}/dismiss")
            assert refused.status_code == 403


def test_naming_fails_when_the_gate_refuses_every_face(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    photos = identity_photos()[OTHER]
    with running_app(
        "sqlite", tmp_path, face_pipeline, enroll_min_face_px=4000, unknown_flag_interval_s=0
    ) as client:
        cluster_id = keep_all(client, photos[:2])
        named = client.post(f"{CLUSTERS}/{cluster_id}/name", json={"name": "Nobody"})
        assert named.status_code == 422, named.text
        error = named.json()["error"]
        assert error["code"] == "low_quality" and len(error["details"]["refused"]) == 2
        assert open_clusters(client)[0]["id"] == cluster_id  # still in the queue
        people = client.get("/api/v1/people").json()
        assert people["total"] == 0


def test_times_without_a_zone_are_refused(client: TestClient) -> None:
    response = client.get(CLUSTERS, params={"seen_after": "2026-01-01T00:00:00"})
    assert response.status_code == 422 and "error" in response.json()
    for late in ("9999-12-31T23:00:00-05:00", "2026-01-01T00:00:00Z"):
        assert client.get(CLUSTERS, params={"seen_after": late}).status_code == 200
    far = client.get(CLUSTERS, params={"seen_before": "0001-01-01T00:00:00+05:00"})
    assert far.status_code == 200, far.text


def test_naming_reports_the_faces_the_gate_refuses(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    photos = identity_photos()[OTHER]  # img16: a 196 px face, img59: 286 px
    with running_app(
        "sqlite", tmp_path, face_pipeline, enroll_min_face_px=250, unknown_flag_interval_s=0
    ) as client:
        cluster_id = keep_all(client, [photos[0], photos[2]])
        named = client.post(f"{CLUSTERS}/{cluster_id}/name", json={"name": "Six"})
        assert named.status_code == 200, named.text
        body = named.json()
        assert len(body["person"]["faces"]) == 1 and body["faces_deleted"] == 2
        assert [r["code"] for r in body["refused"]] == ["low_quality"]

"""Issue 12 end to end, through HTTP on each real database: a session watches two
cameras (video files made from the real photos) where one enrolled person and two strangers
walk by, each on both cameras and from a different photo on each. The strangers become
exactly two unknown clusters of two faces (one per camera), reported as signed
`unknown.cluster_created` / `unknown.cluster_grew` webhooks. Naming one cluster enrolls
that stranger, and a new session reports them by name while the other stranger's cluster
grows by the face of the new session."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.typing import NDArray

from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, running_app
from tests.conftest import identity_photos
from tests.sessions.conftest import FAST, all_events, get, start
from tests.sessions.unknown_footage import walkers_video
from tests.waiting import wait_until

ENROLLED = "deepface_id01"  # enrolled from photo 0
STRANGERS = ("deepface_id07", "deepface_id08")  # never enrolled (until one is named)
NAMED = STRANGERS[0]


def _embedding(pipeline: FacePipeline, data: bytes) -> NDArray[np.float32]:
    image = pipeline.decode(data)
    face = max(pipeline.detect(image), key=lambda d: d.area)
    return pipeline.embed(image, [face])[0].embedding


def _play(client: TestClient, cameras: list[dict[str, Any]], hook: str) -> int:
    """Start a session over the files (with unknown events) and wait until it played out."""
    sid = int(start(client, cameras, hook, unknown_events=True, evidence=False)["id"])
    wait_until(lambda: get(client, sid)["status"] != "active", 180, "the videos to play out")
    assert get(client, sid)["reason"] == "every camera finished"
    return sid


def _clusters(client: TestClient) -> list[dict[str, Any]]:
    page = client.get("/api/v1/unknowns/clusters", params={"limit": 200})
    assert page.status_code == 200, page.text
    return list(page.json()["items"])


def _cluster_faces(client: TestClient, cluster_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/unknowns/clusters/{cluster_id}")
    assert response.status_code == 200, response.text
    return list(response.json()["faces"])


def _who(client: TestClient, pipeline: FacePipeline, face: dict[str, Any],
         known: dict[str, NDArray[np.float32]]) -> str:  # fmt: skip
    """The identity whose photo the kept crop looks most like (the crop downloaded)."""
    crop = client.get(face["image_url"])
    assert crop.status_code == 200 and crop.content[:2] == b"\xff\xd8"
    vector = _embedding(pipeline, crop.content)
    return max(known, key=lambda label: float(vector @ known[label]))


@pytest.mark.parametrize("kind", BACKENDS)
def test_strangers_become_two_clusters_and_a_named_one_is_recognised_later(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline, receiver: WebhookReceiver
) -> None:
    photos = identity_photos()
    walkers = [ENROLLED, *STRANGERS]
    door = walkers_video(face_pipeline, tmp_path / "door.avi", [(label, 1) for label in walkers])
    hall = walkers_video(face_pipeline, tmp_path / "hall.avi",
                  [(label, 2) for label in reversed(walkers)])  # fmt: skip
    known = {label: _embedding(face_pipeline, photos[label][0].read_bytes()) for label in walkers}

    with running_app(kind, tmp_path / "data", face_pipeline, **FAST) as client:
        enrolled = client.post(
            "/api/v1/people", data={"name": "Enrolled One"},
            files=[("photos", ("e.jpg", photos[ENROLLED][0].read_bytes(), "image/jpeg"))],
        )  # fmt: skip
        assert enrolled.status_code == 201, enrolled.text
        enrolled_id = enrolled.json()["id"]

        cameras = [{"url": str(door), "name": "door", "fps": 5},
                   {"url": str(hall), "name": "hall", "fps": 5}]  # fmt: skip
        first = _play(client, cameras, receiver.url)
        assert get(client, first)["unknown_events"] is True

        # The enrolled person is reported by name, once; nobody else is.
        events = all_events(client, first)
        recognitions = [e for e in events if e["type"] == "recognition"]
        assert [e["data"]["person"]["person_id"] for e in recognitions] == [enrolled_id]

        # Exactly two clusters, two faces each (one per camera), each one stranger's.
        clusters = _clusters(client)
        assert sorted(c["size"] for c in clusters) == [2, 2], clusters
        cluster_of = {}
        for cluster in clusters:
            faces = _cluster_faces(client, cluster["id"])
            assert sorted(f["camera_name"] for f in faces) == ["door", "hall"]
            assert {f["session_id"] for f in faces} == {first}
            # The listing says where without the faces: one session, both its cameras.
            seen = cluster["seen"]
            assert (seen["sessions"], seen["session_count"], seen["uploads"]) == ([first], 1, 0)
            cameras = {(c["id"], c["name"]) for c in seen["cameras"]}
            assert cameras == {(f["camera_id"], f["camera_name"]) for f in faces}
            assert seen["camera_count"] == 2
            who = {_who(client, face_pipeline, f, known) for f in faces}
            assert len(who) == 1 and who <= set(STRANGERS), who
            cluster_of[who.pop()] = cluster["id"]
        assert set(cluster_of) == set(STRANGERS)

        # Each cluster was reported created, then grown; all of it signed and delivered.
        unknown = [e for e in events if e["type"].startswith("unknown.")]
        by_cluster: dict[int, list[tuple[str, int]]] = {}
        for e in unknown:
            by_cluster.setdefault(e["data"]["cluster_id"], []).append(
                (e["type"], e["data"]["cluster_size"])
            )
        assert by_cluster == {
            cid: [("unknown.cluster_created", 1), ("unknown.cluster_grew", 2)]
            for cid in cluster_of.values()
        }
        assert receiver.wait_for(lambda got: len(got) >= len(events), 30)
        assert all(r.signature_ok for r in receiver.all)
        assert Counter(r.event_id for r in receiver.accepted) == Counter(e["id"] for e in events)

        # Naming a cluster enrolls the stranger from its faces and takes it off the queue.
        named = client.post(f"/api/v1/unknowns/clusters/{cluster_of[NAMED]}/name",
                            json={"name": "Named Stranger"})  # fmt: skip
        assert named.status_code == 200, named.text
        body = named.json()
        person_id = body["person"]["id"]
        assert body["refused"] == [] and len(body["person"]["faces"]) == 2
        assert [c["id"] for c in _clusters(client)] == [cluster_of[STRANGERS[1]]]

        # A new session, from photos never shown before: the named stranger is reported by
        # name; the other stranger is still unknown and joins their cluster.
        later = walkers_video(face_pipeline, tmp_path / "later.avi", [(s, 3) for s in STRANGERS])
        second = _play(client, [{"url": str(later), "name": "door", "fps": 5}], receiver.url)
        events = all_events(client, second)
        reported = [e["data"]["person"] for e in events if e["type"] == "recognition"]
        assert [(p["person_id"], p["name"]) for p in reported] == [(person_id, "Named Stranger")]
        grew = [e["data"] for e in events if e["type"].startswith("unknown.")]
        assert [(d["cluster_id"], d["cluster_size"]) for d in grew] == [
            (cluster_of[STRANGERS[1]], 3)
        ]
        assert [(c["id"], c["size"]) for c in _clusters(client)] == [(cluster_of[STRANGERS[1]], 3)]

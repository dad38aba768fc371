"""Merging and splitting people over HTTP, with real photos, on every backend: every face is
kept, recognition follows the faces, the sessions' history moves with a merge, both are
audited, and the index (this worker's and another worker's following the change log)
ends as the database is: the same faces, each under the same person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from facebank.services.index_sync import IndexManager
from facebank.sessions import events
from facebank.store.audit import NewAuditEntry
from facebank.store.sessions import (
    EventRepository,
    NewCamera,
    NewEvent,
    NewSession,
    SessionRecord,
    SessionRepository,
    Sighting,
)
from tests.api.conftest import BACKENDS, app_client, photo_file, running_services
from tests.conftest import identity_photos
from tests.waiting import wait_until

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
RETRY_FOR_S = 3600.0


def _enroll(client: TestClient, name: str, photos: list[Path]) -> dict:
    # The same man enrolled twice by mistake: the second needs allow_duplicate.
    response = client.post(
        "/api/v1/people",
        data={"name": name, "allow_duplicate": "true"},
        files=[photo_file(p, "photos") for p in photos],
    )
    assert response.status_code == 201, response.text
    return response.json()


def _match(client: TestClient, photo: Path) -> int | None:
    body = client.post("/api/v1/recognize", files=[photo_file(photo)]).json()
    match = body["faces"][0]["match"]
    return None if match is None else int(match["person_id"])


def _index_holds_db(index: IndexManager, services: Services) -> bool:
    """Same face ids and, for each, the same person as the database."""
    db_ids, db_people, _ = services.faces.fetch_embeddings(
        services.faces.face_ids(index.model_id).tolist()
    )
    ix_ids, ix_people, _ = index.index.entries(db_ids)
    return bool(
        index.status().consistent
        and np.array_equal(ix_ids, db_ids)
        and np.array_equal(ix_people, db_people)
    )


def _past_session(services: Services, a: int, b: int) -> SessionRecord:
    """An ended session that saw both A and B (their summary rows share the session)."""
    factory = services.faces.session_factory
    new = NewSession(
        key="slot-merge", mode="once", threshold=0.5, cooldown_s=0,
        cameras=(NewCamera(url="rtsp://cam0.invalid/", name="cam0", target_fps=1),),
    )  # fmt: skip

    def audit(record: SessionRecord) -> NewAuditEntry:
        return NewAuditEntry(actor_kind="system", actor_id=None, actor_name="tests",
                             action="start", target_kind="session",
                             target_id=str(record.id), details={})  # fmt: skip

    repo = SessionRepository(factory, RETRY_FOR_S)
    record, _ = repo.create(new, lambda r: events.started(r, T0), audit)
    record, _ = repo.finish(record.id, "ended", "test", lambda r, _p: events.ended(r, [], {}, T0))
    log = EventRepository(factory, RETRY_FOR_S)
    for person, minute, score in [(a, 1, 0.71), (b, 2, 0.83), (b, 5, 0.64)]:
        seen = T0 + timedelta(minutes=minute)
        event_id = events.new_event_id()
        payload = {"id": event_id, "type": "recognition", "data": {"person": {"id": person}}}
        event = NewEvent(event_id=event_id, type="recognition", payload=payload,
                         created_at=seen, person_id=person)  # fmt: skip
        log.append(record.id, event, [Sighting(person, seen, seen, 1, score)])
    return record


@pytest.mark.parametrize("kind", BACKENDS)
def test_merge_then_split_keeps_every_face_and_the_index_in_step(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    obama = identity_photos()["fr_obama"]
    # No follow loop: the service itself must bring this worker's index in step.
    with (
        running_services(kind, tmp_path, face_pipeline, index_follow_interval_s=0) as services,
        app_client(services) as client,
    ):
        other = IndexManager(services.faces, face_pipeline.model_id, face_pipeline.dim,
                             tmp_path / "other-index")  # fmt: skip
        other.start()
        a = _enroll(client, "Barack Obama", obama[:2])
        b = _enroll(client, "B. Obama", obama[2:4])
        client.patch(f"/api/v1/people/{b['id']}", json={"age": 61, "metadata": {"k": "b", "x": 1}})
        client.patch(f"/api/v1/people/{a['id']}", json={"metadata": {"k": "a"}})
        past = _past_session(services, a["id"], b["id"])
        assert _match(client, obama[2]) == b["id"]

        merged = client.post(f"/api/v1/people/{a['id']}/merge", json={"from_person_id": b["id"]})
        assert merged.status_code == 200, merged.text
        body = merged.json()
        assert body["id"] == a["id"] and body["face_count"] == 4
        assert body["name"] == "Barack Obama" and body["age"] == 61  # filled from B
        assert body["metadata"] == {"k": "a", "x": 1}  # A's value wins
        assert client.get(f"/api/v1/people/{b['id']}").status_code == 404
        face_ids = sorted(f["id"] for f in client.get(f"/api/v1/people/{a['id']}/faces").json())
        assert face_ids == sorted(f["id"] for f in a["faces"] + b["faces"])
        assert _match(client, obama[2]) == a["id"]
        status = client.get("/api/v1/index").json()
        assert status["consistent"] and status["index_size"] == status["db_count"] == 4
        assert status["index_checksum"] == status["db_checksum"]
        assert _index_holds_db(services.index, services)

        session = client.get(f"/api/v1/sessions/{past.id}").json()
        assert [p["person_id"] for p in session["people"]] == [a["id"]]
        seen = session["people"][0]
        assert (seen["sightings"], seen["events"], seen["best_score"]) == (3, 3, 0.83)
        page = client.get(f"/api/v1/sessions/{past.id}/events").json()["items"]
        recognitions = [e for e in page if e["type"] == "recognition"]
        # Payloads stay as they were sent: the webhooks of past events are history.
        assert [e["data"]["person"]["id"] for e in recognitions] == [a["id"], b["id"], b["id"]]

        split = client.post(
            f"/api/v1/people/{a['id']}/split",
            json={"face_ids": [f["id"] for f in b["faces"]], "person": {"name": "Split Obama"}},
        )
        assert split.status_code == 201, split.text
        c = split.json()
        assert c["face_count"] == 2 and sorted(f["id"] for f in c["faces"]) == sorted(
            f["id"] for f in b["faces"]
        )
        assert client.get(f"/api/v1/people/{a['id']}").json()["face_count"] == 2
        assert _match(client, obama[2]) == c["id"] and _match(client, obama[3]) == c["id"]
        assert _match(client, obama[0]) == a["id"]
        status = client.get("/api/v1/index").json()
        assert status["consistent"] and status["db_count"] == 4
        assert _index_holds_db(services.index, services)

        wait_until(lambda: other.follow() or _index_holds_db(other, services),
                   what="another worker's index to follow the moves")  # fmt: skip
        assert _index_holds_db(other, services)

        audit = client.get("/api/v1/audit", params={"target_kind": "person"}).json()["items"]
        actions = {(e["action"], e["target_id"]) for e in audit}
        assert {("merge", str(a["id"])), ("merge", str(b["id"])), ("split", str(a["id"])),
                ("create", str(c["id"]))} <= actions  # fmt: skip
        entry = next(e for e in audit if e["action"] == "merge" and e["target_id"] == str(a["id"]))
        assert entry["details"]["from_person_id"] == b["id"]
        assert entry["details"]["faces_moved"] == 2 and entry["details"]["session_events"] == 2


def test_refusals_are_clear(sqlite_client: TestClient) -> None:
    client = sqlite_client
    photos = identity_photos()["fr_biden"]
    a = _enroll(client, "Joe Biden", photos)
    other = client.post("/api/v1/people", json={"name": "Nobody"}).json()
    merge, split = f"/api/v1/people/{a['id']}/merge", f"/api/v1/people/{a['id']}/split"
    face_ids = [f["id"] for f in a["faces"]]

    def refused(url: str, body: dict, status: int, code: str) -> None:
        answer = client.post(url, json=body)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["code"] == code

    refused(merge, {"from_person_id": a["id"]}, 422, "validation_error")
    refused(merge, {"from_person_id": 999_999}, 404, "not_found")
    refused("/api/v1/people/999999/merge", {"from_person_id": a["id"]}, 404, "not_found")
    refused(merge, {"from_person_id": "x"}, 422, "validation_error")
    refused(split, {"face_ids": [], "person": {"name": "C"}}, 422, "validation_error")
    refused(split, {"face_ids": face_ids, "person": {"name": "C"}}, 422, "validation_error")
    refused(split, {"face_ids": [999_999], "person": {"name": "C"}}, 404, "not_found")
    refused(split, {"face_ids": face_ids[:1], "person": {"name": ""}}, 422, "validation_error")
    refused(
        f"/api/v1/people/{other['id']}/split",
        {"face_ids": face_ids[:1], "person": {"name": "C"}},
        422,
        "validation_error",
    )
    # Nothing moved: both faces are still A's and the index agrees.
    assert client.get(f"/api/v1/people/{a['id']}").json()["face_count"] == 2
    assert client.get("/api/v1/index").json()["consistent"]


def test_an_operator_may_fix_people_and_a_viewer_may_not(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with running_services("sqlite", tmp_path, face_pipeline) as services:
        with app_client(services) as admin:
            a = admin.post("/api/v1/people", json={"name": "A"}).json()["id"]
            b = admin.post("/api/v1/people", json={"name": "B"}).json()["id"]
        body = {"from_person_id": b}
        with app_client(services, Role.VIEWER) as viewer:
            refused = viewer.post(f"/api/v1/people/{a}/merge", json=body)
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "forbidden"
        with app_client(services, Role.OPERATOR) as operator:
            assert operator.post(f"/api/v1/people/{a}/merge", json=body).status_code == 200

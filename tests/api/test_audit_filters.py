"""The audit log's filters over HTTP: by actor name and by a time window (the web UI's
audit page uses them), on every backend."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from facebank.api.security import API_KEY_HEADER
from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import BACKENDS, api_key_for, app_client, running_services

PASSWORD = "correct horse battery"


@pytest.mark.parametrize("kind", BACKENDS)
def test_audit_filters_by_actor_name_and_time(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    with (
        running_services(kind, tmp_path, face_pipeline) as services,
        app_client(services, role=None) as client,
    ):
        alice = {API_KEY_HEADER: api_key_for(services, Role.ADMIN, "alice")}
        bob = {API_KEY_HEADER: api_key_for(services, Role.ADMIN, "bob")}
        names: dict[str, str] = {}  # user id -> user name
        for who, username in [(alice, "ua1"), (bob, "ua2"), (alice, "ua3")]:
            body = {"username": username, "password": PASSWORD, "role": "viewer"}
            created = client.post("/api/v1/users", json=body, headers=who)
            assert created.status_code == 201, created.text
            names[str(created.json()["id"])] = username

        def entries(**query: str) -> list[dict[str, str]]:
            query = {"target_kind": "user", "action": "create", **query}
            answer = client.get("/api/v1/audit", params=query, headers=alice)
            assert answer.status_code == 200, answer.text
            items: list[dict[str, str]] = answer.json()["items"]
            return items

        def targets(**query: str) -> list[str]:
            return [names[entry["target_id"]] for entry in entries(**query)]

        assert targets() == ["ua3", "ua2", "ua1"]
        assert targets(actor_name="alice") == ["ua3", "ua1"]
        assert targets(actor_name="nobody") == []
        # The entries' own times (each request a moment after the last) bound the windows.
        times = {names[e["target_id"]]: datetime.fromisoformat(e["at"]) for e in entries()}
        second, third = times["ua2"].isoformat(), times["ua3"].isoformat()
        assert targets(since=second) == ["ua3", "ua2"]  # inclusive
        assert targets(until=second) == ["ua1"]  # exclusive
        assert targets(since=second, until=third) == ["ua2"]
        assert targets(actor_name="alice", since=second) == ["ua3"]
        # A time without a zone is ambiguous: refused rather than guessed.
        naive = client.get("/api/v1/audit", params={"since": "2030-01-01T12:00:00"}, headers=bob)
        assert naive.status_code == 422

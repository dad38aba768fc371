"""Threshold calibration over HTTP (issue 15): measured on ../shared/faces/people, applied
through one worker, it changes the decisions of another worker on the same database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from facebank.auth.roles import Role
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from tests.api.conftest import app_client, make_settings, photo_file
from tests.calibration_gallery import enroll_identities
from tests.conftest import identity_photos
from tests.dbservers import fresh_database
from tests.waiting import wait_until

# High on purpose: the probe (another photo of an enrolled person) is "unknown" at this
# default, so the calibrated threshold visibly changes the decision.
DEFAULT_THRESHOLD = 0.9
REFRESH_S = 0.2


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_workers(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[list[Services]]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'shared.db'}"
        else:
            url = stack.enter_context(fresh_database("postgresql"))
        workers = []
        for name in ("a", "b"):
            settings = make_settings(
                tmp_path / name, url, match_threshold=DEFAULT_THRESHOLD,
                calibration_refresh_s=REFRESH_S, index_follow_interval_s=REFRESH_S,
            )  # fmt: skip
            services = build_services(settings, pipeline=face_pipeline)
            stack.callback(services.close)
            services.start()
            workers.append(services)
        yield workers


def _named(client: TestClient, photo: Path) -> str | None:
    answer = client.post("/api/v1/recognize", files=[photo_file(photo)])
    assert answer.status_code == 200, answer.text
    match = answer.json()["faces"][0]["match"]
    return None if match is None else str(match["name"])


def test_applied_on_one_worker_it_decides_on_the_other(two_workers: list[Services]) -> None:
    a, b = two_workers
    people = identity_photos()
    # Scores 0.61 against Biden's other photo: named at a calibrated threshold, not at 0.9.
    probe = next(p for p in people["fr_biden"] if p.name == "biden2.jpg")
    enroll_identities(a, people, held_back={probe})
    with app_client(a) as admin_a, app_client(b) as admin_b:
        measured = admin_a.get("/api/v1/index/calibration", params={"target_far": [0.01, 0.001]})
        assert measured.status_code == 200, measured.text
        body = measured.json()
        assert body["people"] == len(people) and body["excluded_pairs"] == 0
        one_percent = body["recommendations"][0]
        assert body["highest_impostor"] < one_percent["threshold"] < body["lowest_genuine"]
        wait_until(lambda: b.index.size == a.index.size, 10, "worker b to follow the gallery")
        assert _named(admin_b, probe) is None  # below the default 0.9
        assert admin_b.get("/api/v1/index").json()["threshold_source"] == "default"

        applied = admin_a.post("/api/v1/index/calibration", json={"target_far": 0.01})
        assert applied.status_code == 200, applied.text
        assert applied.json()["threshold"] == one_percent["threshold"]

        wait_until(lambda: _named(admin_b, probe) == "fr_biden", 10, "worker b to apply it")
        status = admin_b.get("/api/v1/index").json()
        assert status["threshold"] == one_percent["threshold"]
        assert status["threshold_source"] == "calibration"
        assert status["default_threshold"] == DEFAULT_THRESHOLD
        basis = status["calibration"]
        assert basis["target_far"] == 0.01 and basis["estimated_tar"] == 1.0
        assert basis["faces"] == body["faces"] and basis["people"] == len(people)
        assert basis["applied_by"] == "tests-admin" and basis["applied_at"]

        cleared = admin_a.delete("/api/v1/index/calibration")
        assert cleared.status_code == 200, cleared.text
        assert cleared.json() == {"threshold": DEFAULT_THRESHOLD}
        wait_until(lambda: _named(admin_b, probe) is None, 10, "worker b to drop it")
        assert admin_b.get("/api/v1/index").json()["threshold_source"] == "default"


def test_an_empty_gallery_is_a_clear_conflict(sqlite_client: TestClient) -> None:
    for answer in (
        sqlite_client.get("/api/v1/index/calibration"),
        sqlite_client.post("/api/v1/index/calibration", json={"target_far": 0.01}),
    ):
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["code"] == "calibration_unavailable"
        assert "0 faces" in error["message"]
    assert sqlite_client.get("/api/v1/index").json()["calibration"] is None


@pytest.mark.parametrize("far", ["0", "-0.1", "0.9", "nan", "often"])
def test_a_bad_target_is_refused(sqlite_client: TestClient, far: str) -> None:
    measured = sqlite_client.get("/api/v1/index/calibration", params={"target_far": far})
    assert measured.status_code == 422, measured.text
    applied = sqlite_client.post("/api/v1/index/calibration", json={"target_far": far})
    assert applied.status_code == 422, applied.text


def test_only_an_admin_calibrates(two_workers: list[Services]) -> None:
    with app_client(two_workers[0], Role.OPERATOR) as operator:
        assert operator.get("/api/v1/index/calibration").status_code == 403
        assert operator.post("/api/v1/index/calibration", json={}).status_code == 403
        assert operator.delete("/api/v1/index/calibration").status_code == 403
        assert operator.get("/api/v1/index").status_code == 200

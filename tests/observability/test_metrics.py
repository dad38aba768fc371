"""/metrics parses with Prometheus's own text parser and carries every series the issue
lists after real traffic: HTTP requests, pipeline stages, faces, index, database pool, a
live camera (fps, dropped frames) and webhook deliveries."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from facebank.bench.simulate.mjpeg import MjpegCamera
from facebank.bench.simulate.receiver import WebhookReceiver
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import photo_file, running_app
from tests.conftest import GROUPS, PEOPLE, REPO
from tests.waiting import wait_until

SECRET = "metrics-test-secret-0123456789"
OBAMA = PEOPLE / "fr_obama"


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(response.text)}


@pytest.fixture(scope="module")
def traffic(
    tmp_path_factory: pytest.TempPathFactory, face_pipeline: FacePipeline
) -> Iterator[dict[str, list[Sample]]]:
    """One app after a few real requests and a short live session; its scraped metrics."""
    hook = WebhookReceiver(SECRET).start()
    camera = MjpegCamera([(OBAMA / "obama2.jpg").read_bytes()], fps=5).start()
    try:
        with running_app("sqlite", tmp_path_factory.mktemp("metrics"), face_pipeline) as client:
            enrolled = client.post(
                "/api/v1/people",
                data={"name": "Barack Obama"},
                files=[photo_file(OBAMA / "obama.jpg", "photos")],
            )
            assert enrolled.status_code == 201, enrolled.text
            for path in (OBAMA / "obama3.jpg", GROUPS / "obama_and_biden.jpg"):
                assert client.post("/api/v1/recognize", files=[photo_file(path)]).status_code == 200
            assert client.get("/api/v1/people/999999").status_code == 404
            assert client.get("/no/such/route").status_code == 404
            session = client.post(
                "/api/v1/sessions",
                json={
                    "key": "metrics-1",
                    "cameras": [{"url": camera.url, "name": "door", "fps": 5}],
                    "webhook": {"url": hook.url, "secret": SECRET},
                },
            )
            assert session.status_code == 201, session.text
            wait_until(lambda: any(r.accepted for r in hook.all), 30, "a delivered webhook")
            wait_until(
                lambda: any(s.value > 0 for s in scrape(client).get("facebank_camera_fps", [])),
                15,
                "the camera's fps",
            )
            yield scrape(client)
    finally:
        camera.close()
        hook.close()


def labels_of(samples: list[Sample], name: str, label: str) -> set[str]:
    return {s.labels[label] for s in samples if s.name == name}


def test_http_requests_by_route_method_and_status(traffic: dict[str, list[Sample]]) -> None:
    requests = traffic["facebank_http_requests"]
    seen = {(s.labels["route"], s.labels["method"], s.labels["status"]) for s in requests}
    assert ("/api/v1/recognize", "POST", "200") in seen
    assert ("/api/v1/people", "POST", "201") in seen
    assert ("/api/v1/people/{person_id}", "GET", "404") in seen
    assert ("unmatched", "GET", "404") in seen  # raw paths never become labels
    histogram = traffic["facebank_http_request_duration_seconds"]
    counts = [
        s
        for s in histogram
        if s.name.endswith("_count") and s.labels["route"] == "/api/v1/recognize"
    ]
    assert counts and counts[0].value == 2
    assert any(s.name.endswith("_bucket") and s.labels["le"] == "+Inf" for s in histogram)


def test_pipeline_stages_and_faces(traffic: dict[str, list[Sample]]) -> None:
    stages = traffic["facebank_pipeline_stage_seconds"]
    counted = {s.labels["stage"]: s.value for s in stages if s.name.endswith("_count")}
    for stage in ("decode", "detect", "align", "embed", "search"):
        assert counted.get(stage, 0) >= 3, (stage, counted)  # enroll + two recognitions
    faces = {s.name: s.value for s in traffic["facebank_faces_per_image"]}
    assert faces["facebank_faces_per_image_count"] >= 3
    assert faces["facebank_faces_per_image_sum"] >= 4  # the group photo has 3 faces


def test_index_and_database_pool(traffic: dict[str, list[Sample]]) -> None:
    [faces] = traffic["facebank_index_faces"]
    assert faces.value == 1 and faces.labels["index"]
    assert traffic["facebank_index_people"][0].value == 1
    for name in ("size", "checked_out", "checked_in", "overflow"):
        [sample] = traffic[f"facebank_db_pool_{name}"]
        assert sample.labels["database"] == "sqlite"
    assert traffic["facebank_db_pool_size"][0].value > 0


def test_camera_and_webhook_series(traffic: dict[str, list[Sample]]) -> None:
    [fps] = traffic["facebank_camera_fps"]
    assert (fps.labels["session"], fps.labels["camera"]) == ("metrics-1", "door")
    assert 0 < fps.value <= 6
    dropped = traffic["facebank_camera_frames_dropped"]
    assert labels_of(dropped, "facebank_camera_frames_dropped_total", "camera") == {"door"}
    frames = traffic["facebank_camera_frames"]
    assert sum(s.value for s in frames if s.name.endswith("_total")) > 0
    webhooks = {
        s.labels["outcome"]: s.value
        for s in traffic["facebank_webhook_deliveries"]
        if s.name.endswith("_total")
    }
    assert set(webhooks) == {"delivered", "retrying", "failed"}
    assert webhooks["delivered"] >= 1
    assert traffic["facebank_sessions_active"][0].value == 1
    assert traffic["facebank_cameras_active"][0].value == 1


def test_process_and_build_info(traffic: dict[str, list[Sample]]) -> None:
    assert traffic["process_resident_memory_bytes"][0].value > 0
    [build] = traffic["facebank_build_info"]
    assert build.labels["model_id"].startswith("w600k_mbf")
    assert {"facebank_inference_jobs", "facebank_inference_in_flight"} <= set(traffic)


def test_the_grafana_dashboard_uses_exported_series(traffic: dict[str, list[Sample]]) -> None:
    dashboard = json.loads((REPO / "docs" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\b(?:facebank|process)_\w+", expr)}
    exported = {sample.name for samples in traffic.values() for sample in samples}
    assert used and used <= exported, used - exported
    # Every series the issue lists has a panel.
    for family in (
        "facebank_http_request_duration_seconds_bucket",
        "facebank_pipeline_stage_seconds_bucket",
        "facebank_faces_per_image_sum",
        "facebank_index_faces",
        "facebank_db_pool_checked_out",
        "facebank_camera_fps",
        "facebank_camera_frames_dropped_total",
        "facebank_webhook_deliveries_total",
    ):
        assert family in used, family

""" "Not this person" from a kept unknown face, and labels through a model-pack switch."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import cv2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from facebank.auth.roles import Role
from facebank.config import Settings
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services
from facebank.sessions.unknown_sink import crop_around
from facebank.store.coltypes import utcnow
from facebank.store.media import DEFAULT_SWEEP_MIN_AGE_S
from facebank.store.tables import UnknownCluster, UnknownFace
from facebank.store.vectors import encode_embedding
from tests.api.conftest import BACKENDS, app_client, running_services
from tests.api.test_negatives import B_ENROLLED, B_OTHERS, LOW, STRANGER, enroll, mark_not, matched
from tests.api.test_reembed import _bundled_model


def keep_unknown(services: Services, photo: Path, model_id: str | None = None) -> int:
    """A kept unknown face as the unknowns queue stores one: a JPEG crop around the face in
    the media store, the face's geometry in the crop and its embedding."""
    pipeline = services.pipeline
    image = pipeline.decode(photo.read_bytes())
    face = pipeline.embed(image, pipeline.detect(image)[:1])[0]
    crop, moved = crop_around(image, face)
    ok, jpeg = cv2.imencode(".jpg", crop.pixels)
    assert ok
    ref = services.media.put(jpeg.tobytes(), "jpeg")
    rounded, now = moved.detection.rounded(), utcnow()
    with Session(services.engine) as session:
        cluster = UnknownCluster(status="open", size=1, first_seen=now, last_seen=now)
        session.add(cluster)
        session.flush()
        row = UnknownFace(
            cluster_id=cluster.id, source="recognize", model_id=model_id or pipeline.model_id,
            embedding=encode_embedding(face.embedding), dim=int(face.embedding.size),
            box=rounded.box, landmarks=rounded.landmarks, det_score=rounded.score,
            quality=face.quality.as_dict(), media_ref=ref, media_type="jpeg",
            image_width=crop.width, image_height=crop.height, seen_at=now,
        )  # fmt: skip
        session.add(row)
        session.commit()
        return int(row.id)


@pytest.fixture(params=BACKENDS)
def operator(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[Services, TestClient]]:
    with ExitStack() as stack:
        services = stack.enter_context(running_services(request.param, tmp_path, face_pipeline))
        yield services, stack.enter_context(app_client(services, Role.OPERATOR))


def test_an_unknown_face_marked_not_a_person(operator: tuple[Services, TestClient]) -> None:
    services, client = operator
    b = enroll(client, "B", B_ENROLLED)
    unknown = keep_unknown(services, STRANGER)
    assert matched(client, STRANGER, LOW) == b

    answer = client.post(f"/api/v1/people/{b}/negatives", json={"unknown_face_id": unknown})
    assert answer.status_code == 201, answer.text
    label = answer.json()
    assert label["unknown_face_id"] == unknown and label["model_id"] == services.pipeline.model_id
    assert matched(client, STRANGER, LOW) is None
    assert matched(client, B_OTHERS[0]) == b

    # The same face as a form field works too (a second label of it, sharing its crop).
    form = client.post(f"/api/v1/people/{b}/negatives", data={"unknown_face_id": str(unknown)})
    assert form.status_code == 201, form.text
    assert form.json()["image_url"] != label["image_url"]

    # The labels keep their own crop: retention deleting the unknown's file leaves them whole.
    with Session(services.engine) as session:
        ref = session.get(UnknownFace, unknown).media_ref  # type: ignore[union-attr]
    services.media.delete(ref)
    assert client.get(label["image_url"]).status_code == 200
    # Deleting one label keeps the crop the other still uses.
    assert client.delete(f"/api/v1/people/{b}/negatives/{label['id']}").is_success
    assert client.get(form.json()["image_url"]).status_code == 200
    assert matched(client, STRANGER, LOW) is None


def test_an_unknown_face_of_another_model_is_refused(
    operator: tuple[Services, TestClient],
) -> None:
    services, client = operator
    b = enroll(client, "B", B_ENROLLED)
    unknown = keep_unknown(services, STRANGER, model_id="another-pack")
    answer = client.post(f"/api/v1/people/{b}/negatives", json={"unknown_face_id": unknown})
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "model_mismatch"
    assert client.get(f"/api/v1/people/{b}/negatives").json() == []


@pytest.fixture(scope="module")
def other_pack(tmp_path_factory: pytest.TempPathFactory) -> FacePipeline:
    """The bundled networks under another file name: a different model id (test_reembed)."""
    import shutil

    import onnx

    folder = tmp_path_factory.mktemp("pack")
    shutil.copy(_bundled_model("scrfd_500m_bnkps.onnx"), folder / "det_500m.onnx")
    model = onnx.load(str(_bundled_model("w600k_mbf.onnx")))
    model.doc_string = "facebank test: re-exported recogniser"
    onnx.save(model, str(folder / "w600k_mbf_v2.onnx"))
    return build_pipeline(Settings(_env_file=None, model_dir=folder))


def test_labels_survive_reembedding(
    tmp_path: Path, face_pipeline: FacePipeline, other_pack: FacePipeline
) -> None:
    with (
        running_services("sqlite", tmp_path, face_pipeline) as services,
        app_client(services, Role.OPERATOR) as client,
    ):
        b = enroll(client, "B", B_ENROLLED)
        label = mark_not(client, b, STRANGER)
        crop = services.media.path(services.negatives.get(b, label["id"]).media_ref)
    # Old enough for the start-up sweep of unreferenced media: it must keep the label's crop.
    aged = time.time() - 2 * DEFAULT_SWEEP_MIN_AGE_S
    os.utime(crop, (aged, aged))

    with (
        running_services("sqlite", tmp_path, other_pack) as services,
        app_client(services) as client,
    ):
        report = client.post("/api/v1/index/reembed").json()
        assert report["reembedded"] == 2 and report["failed"] == []
        assert report["negatives_reembedded"] == 1
        labels = client.get(f"/api/v1/people/{b}/negatives").json()
        assert [(n["id"], n["model_id"]) for n in labels] == [(label["id"], other_pack.model_id)]
        assert matched(client, STRANGER, LOW) is None  # still not B, under the new pack
        assert matched(client, B_OTHERS[0]) == b
        assert client.get(label["image_url"]).status_code == 200

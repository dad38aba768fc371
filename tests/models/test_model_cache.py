"""The recogniser's exact PReLU rewrite and the cache that keeps it on disk."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from facebank.models.detector import ScrfdDetector
from facebank.models.embedder import ArcFaceEmbedder
from facebank.models.graph_rewrite import prelu_as_max
from facebank.models.model_cache import ModelCache
from facebank.models.pack import ModelPack, locate_model_pack
from facebank.models.session_factory import OrtSessionFactory
from facebank.pipeline.align import norm_crop

PEOPLE = Path(__file__).resolve().parents[3] / "shared" / "faces" / "people"
PHOTOS = [PEOPLE / "fr_obama" / "obama.jpg", PEOPLE / "deepface_id09" / "img40.jpg"]


@pytest.fixture(scope="module")
def pack() -> ModelPack:
    return locate_model_pack(None)


@pytest.fixture(scope="module")
def factory() -> OrtSessionFactory:
    return OrtSessionFactory("CPUExecutionProvider", intra_op_threads=1)


def _crops(pack: ModelPack, factory: OrtSessionFactory) -> list[np.ndarray]:
    det = ScrfdDetector(pack.detector_path, factory)
    crops = []
    for path in PHOTOS:
        img = cv2.imread(str(path))
        assert img is not None, path
        found = det.detect(img, (640, 640), 0.5)
        assert found, path
        crops.append(norm_crop(img, found[0].landmarks))
    return crops


def test_rewrite_is_exact_on_real_faces(
    tmp_path: Path, pack: ModelPack, factory: OrtSessionFactory
) -> None:
    rewritten = ModelCache(tmp_path).recogniser(pack.embedder_path)
    assert rewritten != pack.embedder_path
    ops = {n.op_type for n in onnx.load(str(rewritten)).graph.node}
    assert "PRelu" not in ops and "Max" in ops
    crops = _crops(pack, factory)
    stock = ArcFaceEmbedder(pack.embedder_path, factory).embed(crops)
    fast = ArcFaceEmbedder(rewritten, factory).embed(crops)
    assert np.min(np.sum(stock * fast, axis=1)) >= 0.99999
    np.testing.assert_allclose(fast, stock, atol=1e-6)


def test_cached_file_is_reused(tmp_path: Path, pack: ModelPack) -> None:
    first = ModelCache(tmp_path).recogniser(pack.embedder_path)
    stamp = first.stat()
    second = ModelCache(tmp_path).recogniser(pack.embedder_path)
    assert second == first
    assert (second.stat().st_ino, second.stat().st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temporary left behind


def _prelu_model(path: Path, slope: float) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])
    a = numpy_helper.from_array(np.full((2,), slope, np.float32), "a")
    node = helper.make_node("PRelu", ["x", "a"], ["y"], name="p")
    graph = helper.make_graph([node], "g", [x], [y], initializer=[a])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def test_slope_above_one_is_left_alone(tmp_path: Path) -> None:
    # max(x, 1.5x) is 1.5x for positive x, not x: the rewrite would be wrong there.
    source = _prelu_model(tmp_path / "steep.onnx", 1.5)
    assert prelu_as_max(source) is None
    cache = ModelCache(tmp_path / "cache")
    assert cache.recogniser(source) == source
    assert cache.recogniser(source) == source  # answered from the marker the first call left
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".unchanged"]


def test_gentle_slope_is_rewritten(tmp_path: Path) -> None:
    source = _prelu_model(tmp_path / "gentle.onnx", 0.25)
    rewritten = ModelCache(tmp_path / "cache").recogniser(source)
    assert rewritten != source
    assert [n.op_type for n in onnx.load(str(rewritten)).graph.node] == ["Mul", "Max"]


def test_saved_optimised_graph_is_reused_and_gives_the_same_results(
    tmp_path: Path, pack: ModelPack, factory: OrtSessionFactory
) -> None:
    cache = ModelCache(tmp_path)
    saved = cache.optimised(pack.detector_path, ["CPUExecutionProvider"])
    assert saved is not None and not saved.exists()
    first = OrtSessionFactory("CPUExecutionProvider", intra_op_threads=1, cache=cache)
    ScrfdDetector(pack.detector_path, first).load()
    stamp = saved.stat()
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no temporary left

    second = OrtSessionFactory("CPUExecutionProvider", intra_op_threads=1, cache=cache)
    reloaded = ScrfdDetector(pack.detector_path, second)
    reloaded.load()
    assert (saved.stat().st_ino, saved.stat().st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)
    img = cv2.imread(str(PHOTOS[0]))
    assert img is not None
    mine = reloaded.detect(img, (640, 640), 0.5)
    stock = ScrfdDetector(pack.detector_path, factory).detect(img, (640, 640), 0.5)
    assert len(mine) == len(stock) > 0
    np.testing.assert_allclose([d.box for d in mine], [d.box for d in stock], atol=1e-3)


def test_optimised_graphs_are_kept_for_cpu_only_sessions(tmp_path: Path, pack: ModelPack) -> None:
    cache = ModelCache(tmp_path)
    gpu = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert cache.optimised(pack.embedder_path, gpu) is None
    cpu = cache.optimised(pack.embedder_path, ["CPUExecutionProvider"])
    assert cpu is not None and pack.embedder_path.stem in cpu.name

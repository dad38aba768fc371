"""ScrfdDetector / ArcFaceEmbedder behaviour beyond parity (tests/pipeline/test_parity.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facebank.errors import ModelPackError
from facebank.models.detector import ScrfdDetector
from facebank.models.embedder import ArcFaceEmbedder
from facebank.models.pack import ModelPack, locate_model_pack
from facebank.models.session_factory import OrtSessionFactory


@pytest.fixture(scope="module")
def pack() -> ModelPack:
    return locate_model_pack(None)


@pytest.fixture(scope="module")
def factory() -> OrtSessionFactory:
    return OrtSessionFactory("auto", intra_op_threads=1)


@pytest.fixture(scope="module")
def embedder(pack: ModelPack, factory: OrtSessionFactory) -> ArcFaceEmbedder:
    return ArcFaceEmbedder(pack.embedder_path, factory)


def _faces(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(n)
    return [rng.integers(0, 255, (112, 112, 3), dtype=np.uint8) for _ in range(n)]


def test_session_is_lazy(pack: ModelPack, factory: OrtSessionFactory) -> None:
    det = ScrfdDetector(pack.detector_path, factory)
    assert det._session is None
    assert det.input_name and len(det.input_shape) == 4
    assert det.load() is det.load()


def test_embedder_batch_axis_is_dynamic(embedder: ArcFaceEmbedder) -> None:
    assert embedder.batch_size is None
    assert embedder.input_size == (112, 112)
    assert embedder.dim == 512


def test_batched_embed_equals_one_by_one(embedder: ArcFaceEmbedder) -> None:
    faces = _faces(5)
    batched = embedder.embed(faces)
    single = np.vstack([embedder.embed([f]) for f in faces])
    assert batched.shape == (5, 512) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, single, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 512)


class _FixedBatch(ArcFaceEmbedder):
    """Pretends the graph has a fixed batch axis of 2, to exercise the chunked path."""

    @property
    def batch_size(self) -> int | None:
        return 2


def test_fixed_batch_fallback(
    pack: ModelPack, factory: OrtSessionFactory, embedder: ArcFaceEmbedder
) -> None:
    faces = _faces(5)
    chunked = _FixedBatch(pack.embedder_path, factory).embed(faces)
    np.testing.assert_allclose(chunked, embedder.embed(faces), atol=1e-5)


def test_wrong_file_for_role(pack: ModelPack, factory: OrtSessionFactory) -> None:
    with pytest.raises(ModelPackError, match="not an SCRFD"):
        ScrfdDetector(pack.embedder_path, factory).load()
    with pytest.raises(ModelPackError, match="not an ArcFace"):
        ArcFaceEmbedder(pack.detector_path, factory).load()
    with pytest.raises(ModelPackError, match="not found"):
        ScrfdDetector(Path("/nonexistent/det.onnx"), factory).load()


def test_detector_on_blank_and_tiny_images(pack: ModelPack, factory: OrtSessionFactory) -> None:
    det = ScrfdDetector(pack.detector_path, factory)
    assert det.detect(np.zeros((480, 640, 3), np.uint8), (640, 640), 0.5) == []
    assert det.detect(np.zeros((3, 5, 3), np.uint8), (640, 640), 0.5) == []


def test_flip_averaged_embedding_is_the_mean_of_a_face_and_its_mirror(
    pack: ModelPack, factory: OrtSessionFactory, embedder: ArcFaceEmbedder
) -> None:
    import cv2

    from facebank.pipeline.align import norm_crop

    people = Path(__file__).resolve().parents[3] / "shared" / "faces" / "people"
    img = cv2.imread(str(people / "fr_obama" / "obama.jpg"))
    assert img is not None
    [face] = ScrfdDetector(pack.detector_path, factory).detect(img, (640, 640), 0.5)[:1]
    crop = norm_crop(img, face.landmarks)
    flipped = ArcFaceEmbedder(pack.embedder_path, factory, flip=True).embed([crop, crop])
    plain = embedder.embed([crop, cv2.flip(crop, 1)])
    # The raw features are averaged before normalising; their lengths differ a little, so
    # the mean of the two unit vectors is close to, not equal to, the result.
    mean = plain.sum(axis=0) / np.linalg.norm(plain.sum(axis=0))
    np.testing.assert_allclose(flipped[0], mean, atol=5e-4)
    np.testing.assert_array_equal(flipped[0], flipped[1])
    assert 0.9 < float(flipped[0] @ plain[0]) < 0.9999  # the mirror really weighs in

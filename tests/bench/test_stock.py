"""The stock pipeline side of `--vs-stock`, for real on a couple of photos (short runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from facebank.bench.ceiling import measure_latency, measure_throughput
from facebank.bench.stock import stock_engine
from facebank.bench.stock_embeddings import check_embeddings_here, iou
from tests.conftest import PEOPLE

pytest.importorskip("insightface")

LARGE = PEOPLE / "fr_biden" / "biden.jpg"  # 970x2204: over FACEBANK_MAX_DETECT_SIDE (1920)


def _folder(root: Path, *photos: Path) -> Path:
    for photo in photos:
        (root / photo.parent.name).mkdir(exist_ok=True)
        shutil.copy(photo, root / photo.parent.name / photo.name)
    return root


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Both under FACEBANK_MAX_DETECT_SIDE: facebank detects them at full size, as stock does.
    root = tmp_path_factory.mktemp("stock")
    return _folder(root, PEOPLE / "fr_obama" / "obama.jpg", PEOPLE / "fr_biden" / "biden2.jpg")


def test_stock_engine_finds_the_face_with_a_unit_embedding() -> None:
    analyze = stock_engine(1)
    faces = analyze((PEOPLE / "fr_obama" / "obama.jpg").read_bytes())
    assert len(faces) == 1
    assert faces[0].normed_embedding.shape == (512,)
    assert np.linalg.norm(faces[0].normed_embedding) == pytest.approx(1.0, abs=1e-4)


def test_stock_single_image_latency_with_all_cores(photos: Path) -> None:
    seconds = measure_latency(photos, threads=2, rounds=2, engine=stock_engine)
    assert len(seconds) == 4  # 2 photos x 2 rounds, after a warm-up pass
    assert all(0.001 < s < 5 for s in seconds)


def test_stock_throughput_of_single_thread_processes(photos: Path) -> None:
    images, rate = measure_throughput(photos, processes=2, duration_s=1.0, engine=stock_engine)
    assert images >= 4 and images % 2 == 0  # whole passes over the 2 photos, per process
    assert 0 < rate <= images / 0.9


def test_embeddings_equal_stock_for_the_same_faces(
    photos: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default detector input, fitted to the photo, moves the landmarks a little: the
    # same faces, close embeddings (docs/bench.md, "Against the stock pipeline").
    fitted = check_embeddings_here(photos, threads=2)
    assert (fitted.photos, fitted.faces_compared, fitted.faces_unpaired) == (2, 2, 0)
    assert fitted.min_cosine is not None and fitted.min_cosine > 0.95
    # With the reference's square letterbox the pipeline is stock's, face for face.
    monkeypatch.setenv("FACEBANK_DET_INPUT", "square")
    check = check_embeddings_here(photos, threads=2)
    assert (check.photos, check.faces_compared, check.faces_unpaired) == (2, 2, 0)
    assert check.min_cosine is not None and check.min_cosine >= 0.999 and check.equal
    assert check.min_cosine_photo in {"fr_obama/obama.jpg", "fr_biden/biden2.jpg"}


def test_a_photo_detected_downscaled_is_the_same_face_and_equal_at_full_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEBANK_DET_INPUT", "square")  # the reference's input, as stock's
    folder = _folder(tmp_path, LARGE)
    downscaled = check_embeddings_here(folder, threads=2)
    assert downscaled.faces_compared == 1 and downscaled.min_cosine is not None
    assert 0.8 < downscaled.min_cosine < 0.999 and not downscaled.equal
    monkeypatch.setenv("FACEBANK_MAX_DETECT_SIDE", "100000")
    monkeypatch.setenv("FACEBANK_DECODE_REDUCED", "false")
    full = check_embeddings_here(folder, threads=2)
    assert full.faces_compared == 1 and full.equal


def test_iou_of_boxes() -> None:
    a = np.array([0, 0, 10, 10], np.float32)
    assert iou(a, a) == 1.0
    assert iou(a, np.array([5, 0, 15, 10], np.float32)) == pytest.approx(50 / 150)
    assert iou(a, np.array([20, 20, 30, 30], np.float32)) == 0.0

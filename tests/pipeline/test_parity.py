"""facebank's detector, alignment and embedder equal insightface 2.1's on the same files."""

from __future__ import annotations

import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

from facebank.models.pack import locate_model_pack
from facebank.pipeline.align import estimate_norm, norm_crop
from facebank.pipeline.decode import decode_image
from facebank.pipeline.pipeline import FacePipeline

from .conftest import GROUPS, PEOPLE, photos

insightface_zoo = pytest.importorskip("insightface.model_zoo")
face_align = pytest.importorskip("insightface.utils.face_align")

DET_SIZE = (640, 640)


@pytest.fixture(scope="module")
def reference(pipeline: FacePipeline) -> tuple[Any, Any]:
    # insightface's own sessions would log ORT's "(1, 512) declared, (n, 512) returned"
    # warning on every batched run of w600k_mbf.
    ort.set_default_logger_severity(3)
    det = insightface_zoo.get_model(str(pipeline.lanes.first.detector.path))
    det.prepare(ctx_id=-1, input_size=DET_SIZE, det_thresh=0.5)
    # The pack's own file, not the rewritten one the pipeline runs (models/model_cache.py):
    # parity is with stock insightface on stock weights.
    rec = insightface_zoo.get_model(str(locate_model_pack(None).embedder_path))
    rec.prepare(ctx_id=-1)
    return det, rec


def _ref_norm_crop(img: np.ndarray, kps: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # skimage's estimate() deprecation
        return np.asarray(face_align.norm_crop(img, kps))


@pytest.mark.parametrize("path", photos(PEOPLE) + photos(GROUPS), ids=lambda p: p.name)
def test_same_boxes_and_embeddings(
    path: Path, pipeline: FacePipeline, reference: tuple[Any, Any]
) -> None:
    det, rec = reference
    # Full size: parity is of the model code on the same pixels, not of reduced decoding.
    image = decode_image(path.read_bytes(), replace(pipeline.limits, decode_reduced=False))
    mine = pipeline.lanes.first.detector.detect(image.pixels, DET_SIZE, 0.5)
    ref_boxes, ref_kps = det.detect(image.pixels)

    assert len(mine) == len(ref_boxes) > 0
    np.testing.assert_allclose([d.box for d in mine], ref_boxes[:, :4], atol=1e-3)
    np.testing.assert_allclose([d.score for d in mine], ref_boxes[:, 4], atol=1e-5)
    np.testing.assert_allclose(np.stack([d.landmarks for d in mine]), ref_kps, atol=1e-3)

    faces = pipeline.embed(image, mine)
    ref_feat = rec.get_feat([_ref_norm_crop(image.pixels, k) for k in ref_kps])
    ref_feat /= np.linalg.norm(ref_feat, axis=1, keepdims=True)
    cosine = np.sum(np.stack([f.embedding for f in faces]) * ref_feat, axis=1)
    assert cosine.min() >= 0.9999


@pytest.mark.parametrize("path", photos(GROUPS), ids=lambda p: p.name)
def test_pipeline_detect_without_downscale_matches_reference(
    path: Path, pipeline: FacePipeline, reference: tuple[Any, Any]
) -> None:
    """With no downscale (nor reduced decode), pipeline.detect is the reference detector,
    sorted by area."""
    det, _ = reference
    no_downscale = FacePipeline(
        pipeline.lanes,
        replace(pipeline.limits, max_detect_side=100_000, decode_reduced=False),
        det_size=DET_SIZE[0],
        det_threshold=0.5,
        model_id=pipeline.model_id,
    )
    image = no_downscale.decode(path.read_bytes())
    ref_boxes, _ = det.detect(image.pixels)
    ref_sorted = sorted(ref_boxes[:, :4].tolist(), key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))
    np.testing.assert_allclose([d.box for d in no_downscale.detect(image)], ref_sorted, atol=1e-3)


def test_norm_crop_equals_reference_bit_for_bit(pipeline: FacePipeline) -> None:
    image = pipeline.decode((GROUPS / "couple.jpg").read_bytes())
    rng = np.random.default_rng(0)
    for d in pipeline.detect(image):
        for kps in (d.landmarks, d.landmarks + rng.normal(0, 3, (5, 2)).astype(np.float32)):
            assert np.array_equal(norm_crop(image.pixels, kps), _ref_norm_crop(image.pixels, kps))


def test_umeyama_equals_skimage() -> None:
    transform = pytest.importorskip("skimage.transform")
    rng = np.random.default_rng(1)
    for _ in range(50):
        lmk = (rng.random((5, 2)) * 500).astype(np.float32)
        for size in (112, 224, 128):
            dst = face_align.arcface_dst * (size / 112.0 if size % 112 == 0 else size / 128.0)
            if size % 128 == 0:
                dst[:, 0] += 8.0 * size / 128.0
            tform = transform.SimilarityTransform.from_estimate(lmk, dst)
            np.testing.assert_allclose(estimate_norm(lmk, size), tform.params[:2], atol=1e-9)


def test_max_num_keeps_the_same_faces_as_reference(
    pipeline: FacePipeline, reference: tuple[Any, Any]
) -> None:
    det, _ = reference
    image = pipeline.decode((GROUPS / "selfie-many-people.jpg").read_bytes())
    for max_num in (1, 3):
        mine = pipeline.lanes.first.detector.detect(image.pixels, DET_SIZE, 0.5, max_num=max_num)
        ref_boxes, _ = det.detect(image.pixels, max_num=max_num)
        np.testing.assert_allclose([d.box for d in mine], ref_boxes[:, :4], atol=1e-3)

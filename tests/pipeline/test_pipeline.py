"""FacePipeline end to end on real photos."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facebank.errors import ImageInvalidError
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage

from .conftest import GROUPS, HUGE_PHOTO, PEOPLE, SINGLE_FACE, photos


def test_identity(pipeline: FacePipeline) -> None:
    assert pipeline.dim == 512
    assert pipeline.model_id.startswith("w600k_mbf-")
    assert "CPUExecutionProvider" in pipeline.providers_in_use


@pytest.mark.parametrize("path", photos(GROUPS), ids=lambda p: p.name)
def test_group_photos_sorted_largest_first(pipeline: FacePipeline, path: Path) -> None:
    image = pipeline.decode(path.read_bytes())
    found = pipeline.detect(image)
    assert len(found) >= 2
    areas = [d.area for d in found]
    assert areas == sorted(areas, reverse=True)
    assert len(pipeline.detect(image, max_faces=1)) == 1
    assert [d.box for d in pipeline.detect(image, max_faces=2)] == [d.box for d in found[:2]]


def test_analyze_many_faces(pipeline: FacePipeline) -> None:
    _, faces = pipeline.analyze((GROUPS / "selfie-many-people.jpg").read_bytes())
    assert len(faces) >= 5
    vectors = np.stack([f.embedding for f in faces])
    assert vectors.dtype == np.float32 and vectors.shape == (len(faces), 512)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert (sims[~np.eye(len(faces), dtype=bool)] < 0.5).all()  # different people
    _, two = pipeline.analyze((GROUPS / "selfie-many-people.jpg").read_bytes(), max_faces=2)
    assert [f.detection.box for f in two] == [f.detection.box for f in faces[:2]]


def test_huge_photo_downscaled_but_boxes_in_original_pixels(pipeline: FacePipeline) -> None:
    image = pipeline.decode(HUGE_PHOTO.read_bytes())
    assert max(image.width, image.height) == 4600
    [face] = pipeline.detect(image, max_faces=1)
    x1, y1, x2, y2 = face.box
    # Detector input is at most 1920 px; a face box far beyond that proves the mapping back.
    assert x2 > 1920 or y2 > 1920 or (x2 - x1) > 640
    assert -50 < x1 < x2 < image.width + 50 and -50 < y1 < y2 < image.height + 50
    lx, ly = face.landmarks[:, 0], face.landmarks[:, 1]
    assert (x1 <= lx).all() and (lx <= x2).all() and (y1 <= ly).all() and (ly <= y2).all()
    # Same face detected on a manual downscale lands on the same spot in original pixels.
    small = np.ascontiguousarray(image.pixels[::4, ::4])
    [ref] = pipeline.detect(DecodedImage(small, "jpeg"), max_faces=1)
    np.testing.assert_allclose(np.array(face.box), np.array(ref.box) * 4, rtol=0.05, atol=40)


def test_blank_image_has_no_faces(pipeline: FacePipeline) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (128, 128, 128)).save(buf, "PNG")
    image, faces = pipeline.analyze(buf.getvalue())
    assert faces == [] and image.width == 640
    assert pipeline.embed(image, []) == []


def test_bad_bytes_raise(pipeline: FacePipeline) -> None:
    with pytest.raises(ImageInvalidError):
        pipeline.analyze(b"not an image")


def test_quality_plausible_for_frontal_face(pipeline: FacePipeline) -> None:
    _, [face, *_] = pipeline.analyze(SINGLE_FACE.read_bytes())
    q = face.quality
    x1, y1, x2, y2 = face.detection.box
    assert q.face_px == round(min(x2 - x1, y2 - y1)) and q.face_px > 100
    assert abs(q.yaw) < 15 and abs(q.pitch) < 20
    assert q.blur > 20
    assert face.detection.score > 0.7


def test_turned_face_has_larger_yaw(pipeline: FacePipeline) -> None:
    yaws: list[float] = []
    for path in photos(PEOPLE)[:40]:
        _, faces = pipeline.analyze(path.read_bytes(), max_faces=1)
        yaws.extend(abs(f.quality.yaw) for f in faces)
    # Most photos are near-frontal, but not all of them.
    assert np.median(yaws) < 15
    assert max(yaws) > 15


def test_assess_gives_quality_without_embedding(pipeline: FacePipeline) -> None:
    image = pipeline.decode((GROUPS / "two_people.jpg").read_bytes())
    detections = pipeline.detect(image)
    assessed = pipeline.assess(image, detections)
    faces = pipeline.embed(image, detections)
    assert [q for _, q in assessed] == [f.quality for f in faces]


def test_concurrent_calls_equal_serial(pipeline: FacePipeline) -> None:
    inputs = [p.read_bytes() for p in photos(GROUPS)] * 2
    serial = [pipeline.analyze(d)[1] for d in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = [faces for _, faces in pool.map(pipeline.analyze, inputs)]
    for a, b in zip(serial, parallel, strict=True):
        assert [f.detection.box for f in a] == [f.detection.box for f in b]
        for fa, fb in zip(a, b, strict=True):
            np.testing.assert_allclose(fa.embedding, fb.embedding, atol=1e-6)

"""Extra detector passes: faces cut by the frame edge, faces filling the frame, and one
pass for an ordinary portrait (counted at the model boundary, not timed)."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from facebank.config import Settings
from facebank.models.detection import Detection
from facebank.models.detector import ScrfdDetector
from facebank.pipeline.detect_passes import merge, shifted
from facebank.pipeline.factory import detect_passes
from facebank.pipeline.lanes import Lanes
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage

from .conftest import GROUPS, PEOPLE, SINGLE_FACE, photos

SELFIE = GROUPS / "selfie-many-people.jpg"
# Counted by eye on the photo (and on a drawing of the found boxes): seven people, the one
# at the bottom left cut by the frame's left edge down the middle of her face.
SELFIE_FACES = 7


class CountingDetector(ScrfdDetector):
    """The real detector, counting its ONNX runs (one per pass)."""

    runs = 0

    def run(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        self.runs += 1
        return super().run(blob)


def _counted(pipeline: FacePipeline, settings: Settings) -> tuple[FacePipeline, CountingDetector]:
    models = pipeline.lanes.first
    detector = CountingDetector(models.detector.path, models.detector.factory)
    return (
        FacePipeline(
            Lanes.single(detector, models.embedder),
            pipeline.limits,
            det_size=settings.det_size,
            det_threshold=settings.det_threshold,
            model_id=pipeline.model_id,
            passes=detect_passes(settings),
        ),
        detector,
    )


@pytest.fixture(scope="module")
def counted(pipeline: FacePipeline) -> tuple[FacePipeline, CountingDetector]:
    return _counted(pipeline, Settings(_env_file=None))


@pytest.fixture(scope="module")
def single_pass(pipeline: FacePipeline) -> FacePipeline:
    off = Settings(_env_file=None, detect_rescue=False, detect_crowd=False)
    return _counted(pipeline, off)[0]


def _runs(counted: tuple[FacePipeline, CountingDetector], image: DecodedImage) -> int:
    p, detector = counted
    before = detector.runs
    p.detect(image)
    return detector.runs - before


def _iou(a: Detection, b: Detection) -> float:
    ix = max(0.0, min(a.box[2], b.box[2]) - max(a.box[0], b.box[0]))
    iy = max(0.0, min(a.box[3], b.box[3]) - max(a.box[1], b.box[1]))
    inter = ix * iy
    return inter / (a.area + b.area - inter)


def _jpeg(pixels: NDArray[np.uint8]) -> bytes:
    ok, buf = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return buf.tobytes()


def _crop_to_face(image: DecodedImage, face: Detection, keep: float) -> bytes:
    """The photo cut to `keep` x the face box around its centre: the face fills the frame."""
    x1, y1, x2, y2 = image.in_pixels(face).box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    half_w, half_h = (x2 - x1) * keep / 2, (y2 - y1) * keep / 2
    top, left = max(0, int(cy - half_h)), max(0, int(cx - half_w))
    crop = image.pixels[top : int(cy + half_h), left : int(cx + half_w)]
    return _jpeg(np.ascontiguousarray(crop))


def test_selfie_face_cut_by_the_frame_edge_is_found_once(
    counted: tuple[FacePipeline, CountingDetector], single_pass: FacePipeline
) -> None:
    p, _ = counted
    image = p.decode(SELFIE.read_bytes())
    found = p.detect(image)
    assert len(found) == SELFIE_FACES
    cut = [d for d in found if d.box[0] < 10 and d.box[1] > 380]
    assert len(cut) == 1 and cut[0].box[3] > 550  # bottom left, down to the lower edge
    assert all(_iou(a, b) < 0.3 for a, b in itertools.combinations(found, 2))
    # One pass at the default settings misses exactly that face.
    assert len(single_pass.detect(image)) == SELFIE_FACES - 1
    assert _runs(counted, image) == 2


def test_extra_passes_off_for_a_call_is_one_pass(
    counted: tuple[FacePipeline, CountingDetector],
) -> None:
    p, detector = counted
    image = p.decode(SELFIE.read_bytes())
    before = detector.runs
    assert len(p.detect(image, extra_passes=False)) == SELFIE_FACES - 1
    assert detector.runs - before == 1


@pytest.mark.parametrize("keep", [1.0, 0.8], ids=["face-box", "inside-face-box"])
@pytest.mark.parametrize(
    "path", [SINGLE_FACE, PEOPLE / "fr_biden" / "biden.jpg"], ids=lambda p: p.parent.name
)
def test_face_filling_the_frame_is_found(
    counted: tuple[FacePipeline, CountingDetector],
    single_pass: FacePipeline,
    path: Path,
    keep: float,
) -> None:
    p, _ = counted
    original, [whole] = p.analyze(path.read_bytes(), max_faces=1)
    tight = p.decode(_crop_to_face(original, whole.detection, keep))
    assert single_pass.detect(tight) == []  # too big for the default pass
    [face] = p.embed(tight, p.detect(tight))
    assert float(face.embedding @ whole.embedding) > 0.7  # the same person's face
    assert _runs(counted, tight) == 2  # first pass, then the half-size rescue


def _classroom(p: FacePipeline, face_px: int) -> DecodedImage:
    """A 4000x2600 wall of 30 real photos (6 x 5), each shrunk so its face is face_px wide:
    the small faces of a classroom or crowd photo."""
    canvas = np.full((2600, 4000, 3), 90, np.uint8)
    for i, path in enumerate(photos(PEOPLE)[:30]):
        image = p.decode(path.read_bytes())
        [face] = p.detect(image, max_faces=1)
        x1, y1, x2, y2 = image.in_pixels(face).box  # a large photo's pixels may be reduced
        half = (x2 - x1) * 1.5
        top, left = int(max(0, (y1 + y2) / 2 - half)), int(max(0, (x1 + x2) / 2 - half))
        crop = image.pixels[top : int((y1 + y2) / 2 + half), left : int((x1 + x2) / 2 + half)]
        scale = face_px / (x2 - x1)
        small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)[:500, :640]
        row, col = divmod(i, 6)
        y, x, (h, w) = row * 520 + 10, col * 666 + 10, small.shape[:2]
        canvas[y : y + h, x : x + w] = small
    return DecodedImage(canvas, "jpeg")


@pytest.mark.parametrize(("face_px", "first_pass_finds"), [(60, range(1, 30)), (40, range(1))])
def test_small_faces_of_a_large_photo_are_found_once(
    counted: tuple[FacePipeline, CountingDetector],
    single_pass: FacePipeline,
    face_px: int,
    first_pass_finds: range,
) -> None:
    p, _ = counted
    image = _classroom(p, face_px)
    assert len(single_pass.detect(image)) in first_pass_finds
    found = p.detect(image)
    assert len(found) >= 28  # of 30: two 40 px faces stay too small for the 1280 pass
    assert all(_iou(a, b) < 0.3 for a, b in itertools.combinations(found, 2))


def test_ordinary_portrait_takes_one_detector_pass(
    counted: tuple[FacePipeline, CountingDetector],
) -> None:
    p, _ = counted
    for path in (SINGLE_FACE, PEOPLE / "fr_kit_harington" / "john1.jpeg"):
        image = p.decode(path.read_bytes())
        assert len(p.detect(image)) >= 1
        assert _runs(counted, image) == 1


def test_no_face_tries_every_rescue_and_stays_empty(
    counted: tuple[FacePipeline, CountingDetector],
) -> None:
    p, _ = counted
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (128, 128, 128)).save(buf, "PNG")
    image = p.decode(buf.getvalue())
    assert p.detect(image) == []
    assert _runs(counted, image) == 3  # first pass, half size, padded


def test_merge_keeps_the_best_box_of_each_face() -> None:
    lm = np.zeros((5, 2), np.float32)
    a = Detection((10, 10, 110, 110), lm, 0.9)
    a_again = Detection((14, 12, 112, 115), lm, 0.7)
    b = Detection((200, 10, 300, 110), lm, 0.6)
    assert merge([a_again, b, a]) == [a, b]
    moved = shifted(a, -10)
    assert moved.box == (0, 0, 100, 100) and moved.score == a.score

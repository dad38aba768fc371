"""The enrollment quality gate at its default limits, on real photos: every enrollment
photo of ../shared/faces passes, blurred, tiny and turned faces fail naming the check."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from facebank.config import Settings
from facebank.errors import LowQualityError
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.quality_gate import QualityGate
from facebank.pipeline.types import Face
from tests.pipeline.conftest import PEOPLE, YALE, photos
from tests.poor_photos import blurred, tiny, turned

GATE = QualityGate.from_settings(Settings(_env_file=None))


def _largest_face(pipeline: FacePipeline, data: bytes) -> Face:
    image = pipeline.decode(data)
    detections = pipeline.detect(image)
    assert detections, "the photo should show a face"
    return pipeline.embed(image, detections[:1])[0]


def test_every_real_enrollment_photo_passes(pipeline: FacePipeline) -> None:
    refused: list[tuple[str, object]] = []
    for path in photos(PEOPLE) + photos(YALE):
        try:
            GATE.check(_largest_face(pipeline, path.read_bytes()))
        except LowQualityError as exc:
            refused.append((str(path.relative_to(path.parents[2])), exc.details))
    assert refused == []


@pytest.mark.parametrize(
    ("make", "check", "bound"),
    [(blurred, "blur", "minimum"), (tiny, "face_px", "minimum"), (turned, "yaw", "maximum")],
)
def test_poor_faces_are_refused_naming_the_check(
    pipeline: FacePipeline, make: Callable[[], bytes], check: str, bound: str
) -> None:
    face = _largest_face(pipeline, make())
    with pytest.raises(LowQualityError) as refused:
        GATE.check(face)
    details = refused.value.details
    assert details["check"] == check
    limit = details[bound]
    assert (abs(details["value"]) > limit) if bound == "maximum" else (details["value"] < limit)
    assert refused.value.code == "low_quality"


def test_a_limit_set_to_zero_switches_the_check_off(pipeline: FacePipeline) -> None:
    face = _largest_face(pipeline, blurred())
    lenient = QualityGate(min_face_px=0, min_det_score=0.0, min_blur=0.0, max_yaw=90, max_pitch=90)
    lenient.check(face)  # no exception

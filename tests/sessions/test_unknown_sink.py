"""crop_around: the crop kept of an unknown face, also from a photo decoded at reduced scale
(cut from its full-size decode)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from facebank.pipeline.decode import decode_image
from facebank.pipeline.pipeline import FacePipeline
from facebank.sessions.unknown_sink import crop_around
from tests.conftest import PEOPLE

HUGE = PEOPLE / "deepface_id09" / "img40.jpg"  # 3061x4600: decoded at 1/4


def test_crop_of_a_reduced_photo_holds_the_face_at_its_coordinates(
    face_pipeline: FacePipeline,
) -> None:
    data = HUGE.read_bytes()
    image, [face] = face_pipeline.analyze(data, 1)
    assert image.scale == 4  # the face is large: aligned from the reduced pixels
    crop, moved = crop_around(image, face)
    full = decode_image(data, replace(face_pipeline.limits, decode_reduced=False))
    full_crop, full_moved = crop_around(full, face)
    # Cut from the full-size decode: the same pixels as a crop of the full-size photo.
    assert crop.scale == 1 and crop.full_decode is None
    assert np.array_equal(crop.pixels, full_crop.pixels)
    assert moved.detection.box == full_moved.detection.box
    # The detector finds the face again where the moved face says it is, in crop pixels.
    [again] = face_pipeline.detect(crop, max_faces=1)
    np.testing.assert_allclose(again.box, moved.detection.box, atol=0.03 * crop.width)
    assert moved.quality == face.quality  # face_px stays the original photo's

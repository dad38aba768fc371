"""Distinct copies of the shared photos: other bytes, the same pixels by the same path."""

from __future__ import annotations

import numpy as np

from facebank.bench.photo_copies import distinct_copy
from facebank.pipeline.decode import decode_image
from facebank.pipeline.types import ImageLimits
from facebank.store.media import media_ref
from tests.conftest import PEOPLE

LIMITS = ImageLimits(max_bytes=20 * 1024 * 1024, max_pixels=60_000_000, max_detect_side=1920)


def test_copies_decode_to_the_same_pixels_under_other_refs() -> None:
    distinct = 0
    photos = sorted(p for p in PEOPLE.glob("*/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    for photo in photos:
        data = photo.read_bytes()
        first, second = distinct_copy(data, 0), distinct_copy(data, 1)
        original = decode_image(data, LIMITS)
        for copy in (first, second):
            decoded = decode_image(copy, LIMITS)
            assert decoded.format == original.format, photo
            assert np.array_equal(decoded.pixels, original.pixels), photo
            # A JPEG keeps ending in its EOI marker: the fast OpenCV path still takes it.
            assert copy.endswith(data[-2:]), photo
        distinct += len({media_ref(data), media_ref(first), media_ref(second)}) == 3
    assert distinct >= 70  # all but the odd WebP saved as .jpg

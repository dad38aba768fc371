"""Deliberately poor enrollment photos, made from the real ones in ../shared/faces."""

from __future__ import annotations

import cv2
import numpy as np

from tests.conftest import GROUPS, PEOPLE

OBAMA = PEOPLE / "fr_obama" / "obama.jpg"
# A real three-quarter turned face: the man on the right of the selfie, cropped out of it.
SELFIE = GROUPS / "selfie-many-people.jpg"
TURNED_FACE_AREA = (300, 50, 550, 360)  # x1, y1, x2, y2 around his face


def _jpeg(pixels: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return encoded.tobytes()


def blurred() -> bytes:
    """Obama's portrait under a heavy Gaussian blur (sigma 5 px on a 236 px face)."""
    return _jpeg(cv2.GaussianBlur(cv2.imread(str(OBAMA)), (0, 0), 5))


def tiny() -> bytes:
    """Obama's portrait scaled down until the face is about 24 px across."""
    pixels = cv2.imread(str(OBAMA))
    scale = 94 / pixels.shape[1]  # the 910 px wide photo's 236 px face becomes ~24 px
    return _jpeg(cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))


def turned() -> bytes:
    x1, y1, x2, y2 = TURNED_FACE_AREA
    return _jpeg(cv2.imread(str(SELFIE))[y1:y2, x1:x2])

"""shrink_to: the size it promises, and scales that map shrunk coordinates back exactly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facebank.pipeline.shrink import shrink_to


def _square_photo(height: int, width: int, box: tuple[int, int, int, int]) -> np.ndarray:
    pixels = np.zeros((height, width, 3), np.uint8)
    x1, y1, x2, y2 = box
    pixels[y1:y2, x1:x2] = 255
    return pixels


def _centroid(pixels: np.ndarray) -> tuple[float, float]:
    grey = pixels[:, :, 0].astype(np.float64)
    ys, xs = np.indices(grey.shape)
    # Pixel centres sit at +0.5 in the continuous coordinates the scales refer to.
    return float((grey * (xs + 0.5)).sum() / grey.sum()), float(
        (grey * (ys + 0.5)).sum() / grey.sum()
    )


@pytest.mark.parametrize(
    ("height", "width"),
    [(3061, 4600), (2048, 1363), (4000, 4000), (1921, 800), (5777, 3851), (800, 7700)],
)
def test_longest_side_and_scales_map_back(height: int, width: int) -> None:
    box = (width // 3, height // 4, width // 3 + width // 5, height // 4 + height // 6)
    shrunk, sx, sy = shrink_to(_square_photo(height, width, box), 1920)
    assert max(shrunk.shape[:2]) == 1920 and shrunk.dtype == np.uint8
    assert shrunk.shape[1] == pytest.approx(width * sx, abs=1) and shrunk.shape[0] == pytest.approx(
        height * sy, abs=1
    )
    cx, cy = _centroid(shrunk)
    # Back in the original photo the square's centre is where it was drawn, to a pixel.
    assert cx / sx == pytest.approx((box[0] + box[2]) / 2, abs=1.0)
    assert cy / sy == pytest.approx((box[1] + box[3]) / 2, abs=1.0)


def test_small_photos_are_left_alone() -> None:
    pixels = np.full((480, 640, 3), 7, np.uint8)
    shrunk, sx, sy = shrink_to(pixels, 1920)
    assert shrunk is pixels and (sx, sy) == (1.0, 1.0)


def test_close_to_the_area_resize_it_replaces() -> None:
    """Same picture as OpenCV's (slow) area resize, give or take interpolation noise."""
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (3061, 4600, 3), dtype=np.uint8)
    smooth = np.asarray(cv2.GaussianBlur(noise, (0, 0), 6), dtype=np.uint8)
    shrunk, _, _ = shrink_to(smooth, 1920)
    reference = cv2.resize(smooth, (shrunk.shape[1], shrunk.shape[0]), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(int) - reference.astype(int)).mean() < 1.5

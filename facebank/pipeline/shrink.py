"""Shrinking large photos before detection: fast, and without aliasing.

OpenCV's area resize is a cheap box filter at whole-number factors and far dearer at any
other factor (the 16 photos over 1920 px of the people set took 0.56-0.62 s that way,
0.15 s here; docs/bench.md). So a photo is box-shrunk by the largest whole factor that
keeps it at least the target size, and the remaining factor, below 2, is bilinear: at
under 2x every source pixel still weighs in, so it does not alias.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray


def shrink_to(
    pixels: NDArray[np.uint8], longest_side: int
) -> tuple[NDArray[np.uint8], float, float]:
    """`pixels` shrunk so the longest side is `longest_side` (unchanged if already within),
    and the x and y scales from original to shrunk coordinates."""
    height, width = pixels.shape[:2]
    factor = max(height, width) // longest_side
    if factor < 1:
        return pixels, 1.0, 1.0
    used_h, used_w = height, width
    out: NDArray[np.uint8] = pixels
    if factor >= 2:
        # Whole blocks only (the fast path); the < factor rows and columns left over at the
        # far edges are not searched for faces.
        used_h, used_w = height - height % factor, width - width % factor
        blocks = pixels[:used_h, :used_w]
        size = (used_w // factor, used_h // factor)
        out = np.asarray(cv2.resize(blocks, size, interpolation=cv2.INTER_AREA), np.uint8)
    ratio = longest_side / max(out.shape[:2])
    new_w = max(1, round(out.shape[1] * ratio))
    new_h = max(1, round(out.shape[0] * ratio))
    if (new_h, new_w) != out.shape[:2]:
        resized = cv2.resize(out, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        out = np.asarray(resized, np.uint8)
    return out, new_w / used_w, new_h / used_h

"""Warp a face onto the ArcFace 112x112 template (insightface.utils.face_align.norm_crop).

The similarity transform is estimated with Umeyama's method exactly as
skimage.transform.SimilarityTransform.estimate does, in plain numpy, so scikit-image
is not a runtime dependency; test_align.py compares both.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

# Where ArcFace expects left eye, right eye, nose tip, mouth left, mouth right in a
# 112x112 crop; every ArcFace recogniser was trained on crops made with these points.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def umeyama(src: NDArray[np.floating], dst: NDArray[np.floating]) -> NDArray[np.float64]:
    """3x3 homogeneous similarity (rotation, uniform scale, translation) mapping src->dst.

    Least squares (Umeyama 1991, eqs. 38-43), step for step like skimage's _umeyama with
    estimate_scale=True, keeping its dtypes so results agree to the last bits.
    """
    num, dim = src.shape
    src_mean = src.mean(axis=0)
    dst_mean = dst.mean(axis=0)
    src_demean = src - src_mean
    dst_demean = dst - dst_mean
    a = dst_demean.T @ src_demean / num
    d = np.ones((dim,), dtype=np.float64)
    if np.linalg.det(a) < 0:
        d[dim - 1] = -1
    t = np.eye(dim + 1, dtype=np.float64)
    u, s, v = np.linalg.svd(a)
    tol = s.max() * max(a.shape) * np.finfo(float).eps
    rank = int(np.count_nonzero(s > tol))
    if rank == 0:
        return np.full_like(t, np.nan)
    if rank == dim - 1:
        if np.linalg.det(u) * np.linalg.det(v) > 0:
            t[:dim, :dim] = u @ v
        else:
            saved = d[dim - 1]
            d[dim - 1] = -1
            t[:dim, :dim] = u @ np.diag(d) @ v
            d[dim - 1] = saved
    else:
        t[:dim, :dim] = u @ np.diag(d) @ v
    scale = 1.0 / src_demean.var(axis=0).sum() * (s @ d)
    t[:dim, dim] = dst_mean - scale * (t[:dim, :dim] @ src_mean.T)
    t[:dim, :dim] *= scale
    return t


def estimate_norm(landmarks: NDArray[np.floating], size: int = 112) -> NDArray[np.float64]:
    """2x3 affine matrix taking the 5 landmarks onto the template scaled to `size`."""
    if landmarks.shape != (5, 2):
        raise ValueError(f"need 5x2 landmarks, got {landmarks.shape}")
    if size % 112 == 0:
        dst = ARCFACE_TEMPLATE * (size / 112.0)
    elif size % 128 == 0:
        # 128-pixel variants centre the 112 template horizontally, as the reference does.
        ratio = size / 128.0
        dst = ARCFACE_TEMPLATE * ratio
        dst[:, 0] += 8.0 * ratio
    else:
        raise ValueError(f"crop size must be a multiple of 112 or 128, got {size}")
    return umeyama(landmarks, dst)[0:2, :]


def norm_crop(
    img: NDArray[np.uint8], landmarks: NDArray[np.floating], size: int = 112
) -> NDArray[np.uint8]:
    """The aligned size x size face crop; outside the photo is black."""
    matrix = estimate_norm(landmarks, size)
    return np.asarray(cv2.warpAffine(img, matrix, (size, size), borderValue=0.0), np.uint8)

"""face_quality / head_pose on synthetic landmarks with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facebank.pipeline.align import ARCFACE_TEMPLATE, norm_crop
from facebank.pipeline.quality import blur_score, face_quality, head_pose
from facebank.pipeline.types import Detection


def _rotate(points: np.ndarray, degrees: float) -> np.ndarray:
    a = math.radians(degrees)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return np.asarray(points @ rot.T, dtype=np.float32)


def test_template_is_frontal() -> None:
    yaw, pitch = head_pose(ARCFACE_TEMPLATE)
    assert abs(yaw) < 0.5 and abs(pitch) < 0.5


@pytest.mark.parametrize("roll", [-40.0, 0.0, 25.0])
@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_pose_ignores_roll_and_scale(roll: float, scale: float) -> None:
    pts = _rotate(ARCFACE_TEMPLATE * scale + 100, roll)
    yaw, pitch = head_pose(pts)
    assert abs(yaw) < 0.5 and abs(pitch) < 0.5


def test_nose_shift_gives_yaw_and_pitch_signs() -> None:
    right = ARCFACE_TEMPLATE.copy()
    right[2, 0] += 10  # nose towards image right
    down = ARCFACE_TEMPLATE.copy()
    down[2, 1] += 8  # nose lower
    assert head_pose(right)[0] > 20
    assert head_pose(down)[1] > 20
    mirrored = ARCFACE_TEMPLATE.copy()
    mirrored[2, 0] -= 10
    assert head_pose(mirrored)[0] == pytest.approx(-head_pose(right)[0], abs=1.0)


def test_nose_beyond_eye_is_a_profile() -> None:
    pts = ARCFACE_TEMPLATE.copy()
    pts[2, 0] = pts[1, 0] + 5
    assert head_pose(pts)[0] > 45


def test_blur_drops_when_smoothed() -> None:
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 255, (112, 112, 3), dtype=np.uint8)
    smooth = np.asarray(
        np.repeat(np.repeat(sharp[::8, ::8], 8, axis=0), 8, axis=1), dtype=np.uint8
    )
    assert blur_score(sharp) > 10 * blur_score(smooth)
    assert blur_score(np.zeros((112, 112, 3), np.uint8)) == 0.0


def test_face_quality_fields() -> None:
    img = np.full((300, 400, 3), 90, np.uint8)
    det = Detection(box=(10.0, 20.0, 130.0, 200.0), landmarks=ARCFACE_TEMPLATE + 20, score=0.9)
    q = face_quality(det, norm_crop(img, det.landmarks))
    assert q.face_px == 120
    assert q.blur == 0.0
    assert abs(q.yaw) < 0.5 and abs(q.pitch) < 0.5
    assert set(q.as_dict()) == {"face_px", "blur", "yaw", "pitch"}

"""Cheap per-face quality signals: size, sharpness and rough head pose from 5 landmarks."""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.pipeline.align import ARCFACE_TEMPLATE
from facebank.pipeline.types import Detection, Quality

# Head-pose model behind yaw/pitch (why: 5 landmarks cannot give a real 3-D pose, but a
# one-parameter depth model is enough to flag profile or strongly tilted faces):
#   Eyes and mouth corners lie on one plane; the nose tip sits NOSE_DEPTH half-eye-
#   distances in front of it (anthropometric average: nose tip ~ 30-35 mm ahead of
#   the eyes, eyes ~ 63 mm apart, so the depth is about one half-eye-distance).
#   Landmarks are first de-rolled so the eye line is horizontal.
# Yaw: turning by t moves the nose by depth*sin t and shrinks both eye offsets by cos t, so
#   with dl, dr = horizontal nose->left/right-eye distances, (dl - dr) / (dl + dr)
#   = depth/half_eye * tan t, i.e. yaw = atan(((dl - dr) / (dl + dr)) / NOSE_DEPTH).
#   Positive = nose towards image right.
# Pitch: with r = (nose_y - eye_y) / (mouth_y - eye_y) and r0 its value on the frontal
#   ArcFace template, r - r0 = depth / eye_to_mouth * tan p, so
#   pitch = atan((r - r0) * eye_to_mouth / depth), eye_to_mouth and depth taken from the
#   template. Positive = nose lower = face tilted down. Expression leaks in: a smile
#   lifts the mouth corners and reads as ~10 degrees "down" (measured on ../shared/faces:
#   Yale neutral faces give r ~ r0, smiling portraits r ~ r0 + 0.08).
NOSE_DEPTH = 1.0
_T = ARCFACE_TEMPLATE.astype(np.float64)
_T_EYE_Y = (_T[0, 1] + _T[1, 1]) / 2
_T_MOUTH_Y = (_T[3, 1] + _T[4, 1]) / 2
_T_HALF_EYE = (_T[1, 0] - _T[0, 0]) / 2
_PITCH_R0 = (_T[2, 1] - _T_EYE_Y) / (_T_MOUTH_Y - _T_EYE_Y)
_PITCH_GAIN = (_T_MOUTH_Y - _T_EYE_Y) / (NOSE_DEPTH * _T_HALF_EYE)


def _derolled(landmarks: NDArray[np.floating]) -> NDArray[np.float64]:
    pts = np.asarray(landmarks, dtype=np.float64)
    dx, dy = pts[1] - pts[0]
    angle = math.atan2(dy, dx)
    c, s = math.cos(-angle), math.sin(-angle)
    rot = np.array([[c, -s], [s, c]])
    return np.asarray((pts - pts[0]) @ rot.T, dtype=np.float64)


def head_pose(landmarks: NDArray[np.floating]) -> tuple[float, float]:
    """(yaw, pitch) in rough degrees; see the model above."""
    p = _derolled(landmarks)
    left_eye, right_eye, nose, mouth_l, mouth_r = p
    dl = nose[0] - left_eye[0]
    dr = right_eye[0] - nose[0]
    yaw = math.degrees(math.atan(((dl - dr) / max(dl + dr, 1e-6)) / NOSE_DEPTH))
    eye_y = (left_eye[1] + right_eye[1]) / 2
    mouth_y = (mouth_l[1] + mouth_r[1]) / 2
    span = mouth_y - eye_y
    if abs(span) < 1e-6:
        return yaw, 0.0
    r = (nose[1] - eye_y) / span
    pitch = math.degrees(math.atan((r - _PITCH_R0) * _PITCH_GAIN))
    return yaw, pitch


def blur_score(aligned: NDArray[np.uint8]) -> float:
    """Variance of the Laplacian of the grey crop: few edges = out of focus or smeared."""
    grey = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY) if aligned.ndim == 3 else aligned
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def face_quality(detection: Detection, aligned_crop: NDArray[np.uint8]) -> Quality:
    x1, y1, x2, y2 = detection.box
    yaw, pitch = head_pose(detection.landmarks)
    return Quality(
        face_px=round(max(0.0, min(x2 - x1, y2 - y1))),
        blur=blur_score(aligned_crop),
        yaw=round(yaw, 2),
        pitch=round(pitch, 2),
    )

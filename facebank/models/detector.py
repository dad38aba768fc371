"""SCRFD face detector: a thin re-implementation of insightface 2.1's model_zoo.scrfd.SCRFD.

Every numeric step (letterbox, normalisation, anchor decoding, NMS, dtypes) follows the
reference so boxes match it to float precision; tests/pipeline/test_parity.py checks it.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from facebank.errors import ModelPackError
from facebank.models.base import OnnxModel
from facebank.models.detection import Detection

NMS_THRESHOLD = 0.4
INPUT_MEAN = 127.5
INPUT_STD = 128.0

# SCRFD export variants by output count: (strides, anchors per cell). Only the keypoint
# variants (9 and 15 outputs) are usable, because alignment needs the 5 landmarks.
_LAYOUTS: dict[int, tuple[tuple[int, ...], int]] = {
    9: ((8, 16, 32), 2),
    15: ((8, 16, 32, 64, 128), 1),
}

FloatArray = NDArray[np.float32]


@lru_cache(maxsize=64)
def _anchor_centers(height: int, width: int, stride: int, num_anchors: int) -> FloatArray:
    """(x, y) of every anchor on a stride's feature map; cached because sizes repeat."""
    grid = np.mgrid[:height, :width][::-1]
    centers: FloatArray = np.stack(list(grid), axis=-1).astype(np.float32)
    centers = (centers * stride).reshape((-1, 2))
    if num_anchors > 1:
        centers = np.stack([centers] * num_anchors, axis=1).reshape((-1, 2))
    centers.setflags(write=False)  # shared between threads through the cache
    return centers


def _distance2bbox(points: FloatArray, distance: FloatArray) -> FloatArray:
    x1 = points[:, 0] - distance[:, 0]
    y1 = points[:, 1] - distance[:, 1]
    x2 = points[:, 0] + distance[:, 2]
    y2 = points[:, 1] + distance[:, 3]
    return np.stack([x1, y1, x2, y2], axis=-1)


def _distance2kps(points: FloatArray, distance: FloatArray) -> FloatArray:
    preds = []
    for i in range(0, distance.shape[1], 2):
        preds.append(points[:, i % 2] + distance[:, i])
        preds.append(points[:, i % 2 + 1] + distance[:, i + 1])
    return np.stack(preds, axis=-1)


def nms(dets: FloatArray, threshold: float = NMS_THRESHOLD) -> list[int]:
    """Greedy NMS with the reference's "+1" pixel area convention (kept for parity)."""
    x1, y1, x2, y2, scores = dets[:, 0], dets[:, 1], dets[:, 2], dets[:, 3], dets[:, 4]
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size > 0:
        i = int(order[0])
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        w = np.maximum(0.0, xx2 - xx1 + 1)
        h = np.maximum(0.0, yy2 - yy1 + 1)
        inter = w * h
        ovr = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[np.where(ovr <= threshold)[0] + 1]
    return keep


STRIDE_MULTIPLE = 32  # the coarsest stride of every SCRFD layout above


def fitted_input_size(height: int, width: int, det_size: int, upscale: bool) -> tuple[int, int]:
    """(width, height) of a network input that holds the photo at the scale the square
    det_size letterbox would give it, without the padding: the short side is rounded up
    to a multiple of 32 instead of to det_size. With `upscale` off, a photo smaller than
    det_size keeps its own size (rounded up to 32) instead of being enlarged."""
    longest = max(height, width)
    target = det_size if upscale or longest > det_size else longest
    scale = target / longest

    def side(pixels: int) -> int:
        needed = max(1, int(pixels * scale))
        return -(-needed // STRIDE_MULTIPLE) * STRIDE_MULTIPLE

    return (side(width), side(height))


class ScrfdDetector(OnnxModel):
    """SCRFD with 5 keypoints (e.g. scrfd_500m_bnkps, buffalo_l's det_10g)."""

    def _check_io(self, session: ort.InferenceSession) -> None:
        inputs = session.get_inputs()
        shape = inputs[0].shape if inputs else []
        n_out = len(session.get_outputs())
        if len(shape) != 4 or shape[1] != 3 or n_out not in _LAYOUTS:
            raise ModelPackError(
                f"{self.path.name} is not an SCRFD detector with keypoints "
                f"(input {shape}, {n_out} outputs; need 9 or 15 outputs)"
            )

    def _letterbox(
        self, img: NDArray[np.uint8], input_size: tuple[int, int]
    ) -> tuple[NDArray[np.uint8], float]:
        """Resize keeping aspect ratio into the top-left of a black input_size canvas."""
        im_ratio = float(img.shape[0]) / img.shape[1]
        model_ratio = float(input_size[1]) / input_size[0]
        if im_ratio > model_ratio:
            new_height = input_size[1]
            new_width = int(new_height / im_ratio)
        else:
            new_width = input_size[0]
            new_height = int(new_width * im_ratio)
        det_scale = float(new_height) / img.shape[0]
        resized = cv2.resize(img, (new_width, new_height))
        canvas = np.zeros((input_size[1], input_size[0], 3), dtype=np.uint8)
        canvas[:new_height, :new_width, :] = resized
        return canvas, det_scale

    def _forward(
        self, det_img: NDArray[np.uint8], threshold: float
    ) -> tuple[list[FloatArray], list[FloatArray], list[FloatArray]]:
        input_size = (det_img.shape[1], det_img.shape[0])
        blob = cv2.dnn.blobFromImage(
            det_img, 1.0 / INPUT_STD, input_size, (INPUT_MEAN, INPUT_MEAN, INPUT_MEAN), swapRB=True
        )
        outs = self.run(np.ascontiguousarray(blob, dtype=np.float32))
        strides, num_anchors = _LAYOUTS[len(outs)]
        fmc = len(strides)
        # Exports with a batch axis give (1, N, C); older ones give (N, C).
        if outs[0].ndim == 3:
            outs = [o[0] for o in outs]
        scores_list, bboxes_list, kpss_list = [], [], []
        for idx, stride in enumerate(strides):
            scores = outs[idx]
            # Only the anchors over the threshold are decoded: the same element-wise float
            # steps as the reference's decode-all-then-filter, on a few rows of thousands.
            pos = np.where(scores >= threshold)[0]
            centers = _anchor_centers(
                det_img.shape[0] // stride, det_img.shape[1] // stride, stride, num_anchors
            )[pos]
            scores_list.append(scores[pos])
            bboxes_list.append(_distance2bbox(centers, outs[idx + fmc][pos] * stride))
            kpss = _distance2kps(centers, outs[idx + fmc * 2][pos] * stride)
            kpss_list.append(kpss.reshape((-1, 5, 2)))
        return scores_list, bboxes_list, kpss_list

    def detect(
        self,
        img_bgr: NDArray[np.uint8],
        input_size: tuple[int, int],
        threshold: float,
        max_num: int = 0,
    ) -> list[Detection]:
        """Faces in a BGR image, boxes/landmarks in its pixels, highest score first.

        `input_size` is (width, height) of the network input. With max_num > 0 the
        reference's rule keeps the largest, most central faces.
        """
        det_img, det_scale = self._letterbox(img_bgr, input_size)
        scores_list, bboxes_list, kpss_list = self._forward(det_img, threshold)
        scores = np.vstack(scores_list)
        if scores.size == 0:
            return []
        order = np.argsort(-scores.ravel(), kind="stable")
        bboxes = np.vstack(bboxes_list) / det_scale
        kpss_all = np.vstack(kpss_list) / det_scale
        pre_det = np.hstack((bboxes, scores)).astype(np.float32, copy=False)[order, :]
        kpss_all = kpss_all[order, :, :]
        keep = nms(pre_det)
        det = pre_det[keep, :]
        kpss = kpss_all[keep, :, :]
        if 0 < max_num < det.shape[0]:
            det, kpss = self._keep_central(det, kpss, img_bgr.shape[:2], max_num)
        return [
            Detection(
                box=(float(d[0]), float(d[1]), float(d[2]), float(d[3])),
                landmarks=np.ascontiguousarray(k, dtype=np.float32),
                score=float(d[4]),
            )
            for d, k in zip(det, kpss, strict=True)
        ]

    @staticmethod
    def _keep_central(
        det: FloatArray, kpss: FloatArray, hw: tuple[int, ...], max_num: int
    ) -> tuple[FloatArray, FloatArray]:
        # The reference's "default" metric: area minus twice the squared distance of the
        # box centre from the image centre, so big central faces win.
        area = (det[:, 2] - det[:, 0]) * (det[:, 3] - det[:, 1])
        cy, cx = hw[0] // 2, hw[1] // 2
        offsets = np.vstack(
            [(det[:, 0] + det[:, 2]) / 2 - cx, (det[:, 1] + det[:, 3]) / 2 - cy]
        )
        values = area - np.sum(np.power(offsets, 2.0), 0) * 2.0
        index = np.argsort(values)[::-1][:max_num]
        return det[index, :], kpss[index, :]

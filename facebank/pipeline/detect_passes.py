"""Extra detector passes that find the faces one pass at the default settings misses.

Measured on ../shared/faces (README, "Finding every face"):
- A face that fills the frame (a portrait cropped to the face) is found by no pass at the
  default 640 input: letterboxed up, the face is larger than SCRFD's biggest anchors.
  The same crop at half the input size is found every time (77 of 77 crops, also when
  cropped inside the face box), so that is the first rescue when nothing is found; a pass
  with a black border around the photo is the second. A lower score threshold found none
  of those crops and would risk faces on walls, so it is not used.
- In a group photo a face cut by the frame edge scores below the threshold at 640 and is
  found at a higher input size; that pass runs only when the first found several faces or
  small ones (a crowd), and its faces are merged with NMS so a face found twice is one box.
  In a large photo whose faces are all tiny (a classroom) the first pass finds none, so
  the crowd pass is also the last rescue for a photo at least twice the input size.
A portrait with one ordinary face pays for one detector pass, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.config import DetInput
from facebank.models.detection import Detection
from facebank.models.detector import fitted_input_size, nms


class FaceDetector(Protocol):
    def detect(
        self, img_bgr: NDArray[np.uint8], input_size: tuple[int, int], threshold: float
    ) -> list[Detection]: ...


@dataclass(frozen=True)
class Finer:
    """More pixels of the photo a pass was given (a reduced decode's full-size one), fetched
    only by a pass whose input is larger than the given pixels: `load` returns them with
    their x and y size relative to the given ones; `side` is their longest side."""

    side: int
    load: Callable[[], tuple[NDArray[np.uint8], float, float]]


@dataclass(frozen=True)
class DetectPasses:
    """When extra passes run and how; from Settings (FACEBANK_DETECT_*)."""

    det_size: int
    det_threshold: float
    # How a photo becomes each pass's input (config.DetInput); "square" is the reference's.
    det_input: DetInput = "square"
    # Try harder before answering "no face": half-size pass, then a padded pass.
    rescue: bool = True
    # Border added on every side for the padded rescue, as a fraction of the longest side.
    rescue_pad: float = 0.5
    # A second pass at crowd_det_size when the first found crowd_min_faces faces or more,
    # or any face whose shorter side is under crowd_small_face_px detector-input pixels.
    crowd: bool = True
    crowd_det_size: int = 1280
    crowd_min_faces: int = 3
    crowd_small_face_px: int = 24

    def detect(
        self,
        detector: FaceDetector,
        pixels: NDArray[np.uint8],
        extra: bool = True,
        finer: Finer | None = None,
    ) -> list[Detection]:
        """Faces in `pixels`' coordinates, one per face whichever passes found it; with
        extra=False only the first pass runs. A pass whose input is larger than `pixels`
        runs on `finer` where given."""
        found = self._pass(detector, pixels, self.det_size, finer)
        if not extra:
            return found
        if not found:
            return self._rescue(detector, pixels, finer) if self.rescue else []
        if self.crowd and self._looks_like_crowd(found, pixels.shape[:2]):
            crowd = self._pass(detector, pixels, self.crowd_det_size, finer)
            found = merge(found + crowd)
        return found

    def _pass(
        self,
        detector: FaceDetector,
        pixels: NDArray[np.uint8],
        size: int,
        finer: Finer | None = None,
    ) -> list[Detection]:
        if finer is not None and size > max(pixels.shape[:2]):
            fine, fx, fy = finer.load()
            return [d.divided(fx, fy) for d in self._pass(detector, fine, size)]
        return detector.detect(pixels, self._input_size(pixels.shape[:2], size), self.det_threshold)

    def _input_size(self, hw: tuple[int, ...], size: int) -> tuple[int, int]:
        if self.det_input == "square":
            return (size, size)
        return fitted_input_size(hw[0], hw[1], size, upscale=self.det_input == "fitted")

    def _input_scale(self, hw: tuple[int, ...]) -> float:
        """Photo pixels to first-pass input pixels (the longest side becomes det_size,
        except that "native" does not enlarge)."""
        scale = self.det_size / max(hw)
        return min(scale, 1.0) if self.det_input == "native" else scale

    def _rescue(
        self, detector: FaceDetector, pixels: NDArray[np.uint8], finer: Finer | None
    ) -> list[Detection]:
        # Cheapest first: half size (~1/4 of a first pass), padded, then the crowd pass for
        # a large photo whose faces were all too small for the first pass.
        found = self._pass(detector, pixels, max(32, self.det_size // 2))
        if not found and self.rescue_pad > 0:
            found = self._padded_pass(detector, pixels)
        longest = max(max(pixels.shape[:2]), finer.side if finer else 0)
        if not found and self.crowd and longest >= 2 * self.det_size:
            found = self._pass(detector, pixels, self.crowd_det_size, finer)
        return found

    def _padded_pass(self, detector: FaceDetector, pixels: NDArray[np.uint8]) -> list[Detection]:
        pad = max(1, round(self.rescue_pad * max(pixels.shape[:2])))
        framed = cv2.copyMakeBorder(pixels, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        return [shifted(d, -pad) for d in self._pass(detector, np.asarray(framed), self.det_size)]

    def _looks_like_crowd(self, found: list[Detection], hw: tuple[int, ...]) -> bool:
        if len(found) >= self.crowd_min_faces:
            return True
        to_input = self._input_scale(hw)
        return any(_short_side(d) * to_input < self.crowd_small_face_px for d in found)


def _short_side(det: Detection) -> float:
    x1, y1, x2, y2 = det.box
    return min(x2 - x1, y2 - y1)


def shifted(det: Detection, offset: float) -> Detection:
    """`det` moved by `offset` pixels on both axes (back out of a padded frame)."""
    x1, y1, x2, y2 = det.box
    return Detection(
        box=(x1 + offset, y1 + offset, x2 + offset, y2 + offset),
        landmarks=(det.landmarks + np.float32(offset)).astype(np.float32),
        score=det.score,
    )


def merge(found: list[Detection]) -> list[Detection]:
    """One box per face across passes: the detector's own NMS over all of them."""
    if len(found) < 2:
        return found
    dets = np.array([[*d.box, d.score] for d in found], dtype=np.float32)
    return [found[i] for i in nms(dets)]

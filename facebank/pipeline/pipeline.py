"""decode -> detect -> align -> embed -> quality, with no HTTP and no database."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from facebank.pipeline.align import norm_crop
from facebank.pipeline.decode import decode_image
from facebank.pipeline.detect_passes import DetectPasses, Finer
from facebank.pipeline.lanes import Lanes
from facebank.pipeline.observer import ObserverHub
from facebank.pipeline.quality import face_quality
from facebank.pipeline.shrink import shrink_to
from facebank.pipeline.types import DecodedImage, Detection, Face, ImageLimits, Quality


class FacePipeline:
    """Stateless after construction, so one instance serves many threads at once
    (ONNX Runtime sessions allow concurrent run() calls). Model calls run on the calling
    thread's lane (`lanes`); stage timings and face counts go to `observers` (nobody
    listens unless someone attaches)."""

    def __init__(
        self,
        lanes: Lanes,
        limits: ImageLimits,
        det_size: int,
        det_threshold: float,
        model_id: str,
        observers: ObserverHub | None = None,
        passes: DetectPasses | None = None,
    ) -> None:
        self.lanes = lanes
        self.limits = limits
        self.det_size = det_size
        self.det_threshold = det_threshold
        self.model_id = model_id
        self.observers = observers or ObserverHub()
        # Without passes from the settings: one detector pass, exactly the reference's.
        self.passes = passes or DetectPasses(det_size, det_threshold, rescue=False, crowd=False)

    @property
    def dim(self) -> int:
        return self.lanes.first.embedder.dim

    @property
    def providers_in_use(self) -> list[str]:
        """Execution providers the sessions really run on, for health reporting."""
        return self.lanes.first.detector.factory.providers_in_use

    def decode(self, data: bytes) -> DecodedImage:
        with self.observers.timed("decode"):
            return decode_image(data, self.limits)

    def crop_source(self, image: DecodedImage, detections: list[Detection]) -> DecodedImage:
        """The image to crop `detections` from: `image`, or where it is a reduced decode and
        a face's shorter side there is under the recogniser's input size, its full-size
        decode (decoded only then, once), so small faces keep every pixel they had."""
        if image.full_decode is None:
            return image
        need = min(self.lanes.first.embedder.input_size)
        if all(_shorter_side(image.in_pixels(d)) >= need for d in detections):
            return image
        return self._full_size(image)

    def _full_size(self, image: DecodedImage) -> DecodedImage:
        assert image.full_decode is not None
        with self.observers.timed("decode"):
            return image.full_decode()

    def detect(
        self, image: DecodedImage, max_faces: int | None = None, extra_passes: bool = True
    ) -> list[Detection]:
        """Faces in original-image pixels, largest box first, at most max_faces;
        extra_passes=False runs only the first detector pass (pipeline/detect_passes.py)."""
        with self.observers.timed("detect"):
            found = self._detect_all(image, extra_passes)
        self.observers.faces_found(len(found))
        return found if max_faces is None else found[: max(0, max_faces)]

    def _detect_all(self, image: DecodedImage, extra_passes: bool) -> list[Detection]:
        pixels, sx, sy = self._detector_pixels(image)
        detector = self.lanes.current().detector
        found = self.passes.detect(detector, pixels, extra_passes, self._finer(image, sx, sy))
        # Detector pixels -> original photo pixels (a reduced decode is 1/scale of those).
        sx, sy = sx / image.scale, sy / image.scale
        if sx != 1.0 or sy != 1.0:
            found = [d.divided(sx, sy) for d in found]
        found.sort(key=lambda d: d.area, reverse=True)
        return found

    def _detector_pixels(self, image: DecodedImage) -> tuple[NDArray[np.uint8], float, float]:
        """`image`'s pixels within max_detect_side, and their x and y scale to them."""
        if max(image.pixels.shape[:2]) <= self.limits.max_detect_side:
            return image.pixels, 1.0, 1.0
        # The detector resizes to its input anyway; shrinking huge photos first keeps its
        # bilinear resize from aliasing, and is faster.
        return shrink_to(image.pixels, self.limits.max_detect_side)

    def _finer(self, image: DecodedImage, sx: float, sy: float) -> Finer | None:
        """For a reduced decode shown to the detector at `sx`, `sy`: its full-size decode
        within max_detect_side, for passes whose input is larger (the crowd pass)."""
        if image.full_decode is None:
            return None

        def load() -> tuple[NDArray[np.uint8], float, float]:
            fine, fx, fy = self._detector_pixels(self._full_size(image))
            return fine, fx * image.scale / sx, fy * image.scale / sy

        return Finer(min(max(image.width, image.height), self.limits.max_detect_side), load)

    def embed(self, image: DecodedImage, detections: list[Detection]) -> list[Face]:
        """Align every face, embed them in one batched run, score their quality."""
        if not detections:
            return []
        image = self.crop_source(image, detections)
        with self.observers.timed("align"):
            crops = [_aligned(image, d) for d in detections]
        with self.observers.timed("embed"):
            vectors = self.lanes.current().embedder.embed(crops)
        with self.observers.timed("quality"):
            return [
                Face(detection=d, quality=face_quality(d, crop), embedding=vec)
                for d, crop, vec in zip(detections, crops, vectors, strict=True)
            ]

    def assess(
        self, image: DecodedImage, detections: list[Detection]
    ) -> list[tuple[Detection, Quality]]:
        """Quality of each face without embedding it (for detection-only requests)."""
        image = self.crop_source(image, detections)
        return [(d, face_quality(d, _aligned(image, d))) for d in detections]

    def analyze(
        self, data: bytes, max_faces: int | None = None
    ) -> tuple[DecodedImage, list[Face]]:
        """The image the faces were aligned from (crop_source: crop them from it), and the
        faces, largest first."""
        image = self.decode(data)
        detections = self.detect(image, max_faces)
        image = self.crop_source(image, detections)
        return image, self.embed(image, detections)


def _aligned(image: DecodedImage, detection: Detection) -> NDArray[np.uint8]:
    """The face aligned onto the recogniser's template, from the image's own pixels."""
    return norm_crop(image.pixels, image.in_pixels(detection).landmarks)


def _shorter_side(detection: Detection) -> float:
    x1, y1, x2, y2 = detection.box
    return min(x2 - x1, y2 - y1)

"""decode -> detect -> align -> embed -> quality, with no HTTP and no database."""

from __future__ import annotations

import numpy as np

from facebank.pipeline.align import norm_crop
from facebank.pipeline.decode import decode_image
from facebank.pipeline.detect_passes import DetectPasses
from facebank.pipeline.lanes import Lanes
from facebank.pipeline.observer import ObserverHub
from facebank.pipeline.quality import face_quality
from facebank.pipeline.shrink import shrink_to
from facebank.pipeline.types import DecodedImage, Detection, Face, ImageLimits, Quality


def _rescaled(det: Detection, sx: float, sy: float) -> Detection:
    x1, y1, x2, y2 = det.box
    scale = np.array([sx, sy], dtype=np.float32)
    return Detection(
        box=(x1 / sx, y1 / sy, x2 / sx, y2 / sy),
        landmarks=(det.landmarks / scale).astype(np.float32),
        score=det.score,
    )


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
        pixels, sx, sy = image.pixels, 1.0, 1.0
        if max(image.pixels.shape[:2]) > self.limits.max_detect_side:
            # The detector letterboxes to det_size anyway; shrinking huge photos first
            # keeps its bilinear resize from aliasing, and is faster.
            pixels, sx, sy = shrink_to(image.pixels, self.limits.max_detect_side)
        found = self.passes.detect(self.lanes.current().detector, pixels, extra_passes)
        if sx != 1.0 or sy != 1.0:
            found = [_rescaled(d, sx, sy) for d in found]
        found.sort(key=lambda d: d.area, reverse=True)
        return found

    def embed(self, image: DecodedImage, detections: list[Detection]) -> list[Face]:
        """Align every face, embed them in one batched run, score their quality."""
        if not detections:
            return []
        with self.observers.timed("align"):
            crops = [norm_crop(image.pixels, d.landmarks) for d in detections]
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
        return [(d, face_quality(d, norm_crop(image.pixels, d.landmarks))) for d in detections]

    def analyze(
        self, data: bytes, max_faces: int | None = None
    ) -> tuple[DecodedImage, list[Face]]:
        image = self.decode(data)
        return image, self.embed(image, self.detect(image, max_faces))

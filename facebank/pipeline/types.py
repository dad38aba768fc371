"""Plain data produced by the pipeline. No HTTP, no database."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# The detector's output lives with the detector (models sits below the pipeline).
from facebank.models.detection import Box as Box
from facebank.models.detection import Detection as Detection


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int
    max_pixels: int
    # Longest side fed to the detector; larger photos are downscaled first.
    max_detect_side: int


@dataclass(frozen=True)
class DecodedImage:
    """BGR uint8 pixels after EXIF orientation, plus what the upload looked like."""

    pixels: NDArray[np.uint8]
    format: str  # "jpeg", "png", "webp", "bmp", "gif"

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True)
class Quality:
    face_px: int  # shorter side of the face box, in original pixels
    blur: float  # variance of the Laplacian on the aligned grey crop; lower is blurrier
    yaw: float  # rough degrees from landmarks; 0 = frontal
    pitch: float

    def as_dict(self) -> dict[str, float]:
        return {"face_px": self.face_px, "blur": self.blur, "yaw": self.yaw, "pitch": self.pitch}


@dataclass(frozen=True)
class Face:
    """One analysed face: detection, quality and its L2-normalised embedding."""

    detection: Detection
    quality: Quality
    embedding: NDArray[np.float32]  # (D,), unit length

"""Plain data produced by the pipeline. No HTTP, no database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    # Decode plain JPEGs at 1/2, 1/4 or 1/8 scale (libjpeg DCT scaling;
    # FACEBANK_DECODE_REDUCED, on in the service) where the long side stays at least
    # `reduced_min_side` (default: max_detect_side). Off here: a bare decode gives every pixel.
    decode_reduced: bool = False
    # The service's pipeline passes the detector's first-pass input side: it fetches a
    # full-size decode itself for a pass or a face that needs more (FacePipeline).
    reduced_min_side: int | None = None

    @property
    def reduce_to(self) -> int:
        """The long side a reduced decode keeps at least."""
        return self.reduced_min_side or self.max_detect_side


@dataclass(frozen=True)
class DecodedImage:
    """BGR uint8 pixels after EXIF orientation, plus what the upload looked like.

    `pixels` may be a reduced decode of a large JPEG (pipeline/decode.py): `scale` original
    pixels per pixel of `pixels`. Everything handed out (width, height, detections) is in
    the original photo's pixels; `in_pixels` is the one mapping into `pixels`."""

    pixels: NDArray[np.uint8]
    format: str  # "jpeg", "png", "webp", "bmp", "gif"
    scale: int = 1
    # The original photo's upright (width, height) where `pixels` is reduced.
    full_size: tuple[int, int] | None = None
    # With a reduced decode: the full-size decode of the same upload, decoded on the first
    # call and kept, for detector passes and faces that need more pixels (FacePipeline).
    full_decode: Callable[[], DecodedImage] | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def width(self) -> int:
        return self.full_size[0] if self.full_size else int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return self.full_size[1] if self.full_size else int(self.pixels.shape[0])

    def in_pixels(self, detection: Detection) -> Detection:
        """`detection` (original photo pixels) in the coordinates of `pixels`."""
        return detection if self.scale == 1 else detection.divided(self.scale, self.scale)


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

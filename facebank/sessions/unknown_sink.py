"""Unknown faces worth keeping (issue 12): what a camera or an upload hands over, and the
narrow interface that keeps them. The services layer implements `UnknownSink` (store the
crop, cluster the face); the sessions layer and the recognition service only call it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

import numpy as np

from facebank.pipeline.types import DecodedImage, Detection, Face

UnknownSource = Literal["session", "recognize"]

# Context kept around the face: enough for the detector to find it again in the crop (when
# it is enrolled or re-embedded) and for a reviewer to recognise the person.
CROP_MARGIN = 0.6


@dataclass(frozen=True)
class UnknownSighting:
    """One unknown face: the crop around it, and the face with coordinates in that crop."""

    crop: DecodedImage
    face: Face
    seen_at: datetime
    source: UnknownSource
    session_id: int | None = None
    camera_id: int | None = None
    camera_name: str | None = None


@dataclass(frozen=True)
class KeptUnknown:
    face_id: int
    cluster_id: int
    cluster_size: int  # faces in the cluster, this one included
    created: bool  # this face started the cluster


class UnknownSink(Protocol):
    def keep(self, sighting: UnknownSighting) -> KeptUnknown | None:
        """Store and cluster the face; None where it was not kept (keeping disabled)."""
        ...


def crop_around(
    image: DecodedImage, face: Face, margin: float = CROP_MARGIN
) -> tuple[DecodedImage, Face]:
    """The part of `image` around `face` (`margin` of the box size on each side, clipped to
    the image), and the face moved into the crop's coordinates. Where `image` is a reduced
    decode the crop is cut from its full-size decode (made once per photo): a kept crop is
    what a face is later enrolled from, so it keeps every pixel the photo had, and the
    enroll gate measures the face as the photo holds it."""
    if image.full_decode is not None:
        image = image.full_decode()
    inner = image.in_pixels(face.detection)
    x1, y1, x2, y2 = inner.box
    mx, my = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right = min(image.pixels.shape[1], int(x2 + mx) + 1)
    bottom = min(image.pixels.shape[0], int(y2 + my) + 1)
    pixels = np.ascontiguousarray(image.pixels[top:bottom, left:right])
    shift = np.array([left, top], dtype=np.float32)
    moved = Detection(
        box=(x1 - left, y1 - top, x2 - left, y2 - top),
        landmarks=(inner.landmarks - shift).astype(np.float32),
        score=inner.score,
    )
    return DecodedImage(pixels, "jpeg"), replace(face, detection=moved)

"""Turning uploaded photos into one enrollable face each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from facebank.config import Settings
from facebank.errors import FacebankError, MultipleFacesError, NoFaceError
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.quality_gate import QualityGate
from facebank.pipeline.types import Box, DecodedImage, Detection, Face
from facebank.store.people import NewFace


class FaceChoice(StrEnum):
    """How to pick the face to enroll from a photo with several faces."""

    AUTO = "auto"  # the dominant face when clearly larger than the rest, else refuse
    LARGEST = "largest"  # always the largest face


@dataclass(frozen=True)
class FaceAt:
    """The face the caller pointed at in a photo of several: a box from /recognize or /detect.

    Detection is re-run on enrollment, so the box is matched to a fresh detection by overlap
    rather than trusted as it is: a tampered box cannot enroll a region that holds no face."""

    box: Box
    min_overlap: float = 0.5  # intersection over union with the detected face

    def pick(self, detections: list[Detection]) -> Detection:
        best = max(detections, key=lambda d: _overlap(d.box, self.box))
        if _overlap(best.box, self.box) < self.min_overlap:
            raise NoFaceError("no face was found at the given box", box=list(self.box))
        return best


# What enrollment is told about the face to take from each photo.
FaceSelection = FaceChoice | FaceAt


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class EnrollRules:
    """What a photo must satisfy to give an enrollable face, as the settings say."""

    dominant_ratio: float  # see choose_detection
    quality: QualityGate

    @classmethod
    def from_settings(cls, settings: Settings) -> EnrollRules:
        return cls(settings.dominant_face_ratio, QualityGate.from_settings(settings))


@dataclass(frozen=True)
class EnrollableFace:
    photo: Photo
    image: DecodedImage
    face: Face


def choose_detection(
    detections: list[Detection], choice: FaceSelection, dominant_ratio: float
) -> Detection:
    """Pick the face to enroll; detections arrive sorted largest first."""
    if not detections:
        raise NoFaceError("no face was found in the photo")
    if isinstance(choice, FaceAt):
        return choice.pick(detections)
    if len(detections) == 1 or choice is FaceChoice.LARGEST:
        return detections[0]
    largest, runner_up = detections[0], detections[1]
    if largest.area >= dominant_ratio * runner_up.area:
        return largest
    raise MultipleFacesError(
        f"the photo has {len(detections)} faces of similar size; "
        "crop it or ask for face_choice=largest",
        faces=len(detections),
    )


def prepare_photo(
    pipeline: FacePipeline, photo: Photo, choice: FaceSelection, rules: EnrollRules
) -> EnrollableFace:
    """Decode, detect, choose, embed and quality-check one photo; only the chosen face is
    embedded."""
    image = pipeline.decode(photo.data)
    detection = choose_detection(pipeline.detect(image), choice, rules.dominant_ratio)
    face = pipeline.embed(image, [detection])[0]
    rules.quality.check(face)
    return EnrollableFace(photo=photo, image=image, face=face)


def prepare_photos(
    pipeline: FacePipeline, photos: list[Photo], choice: FaceSelection, rules: EnrollRules
) -> list[EnrollableFace]:
    """Prepare every photo, naming the failing one so a multi-photo request is actionable."""
    prepared = []
    for position, photo in enumerate(photos):
        try:
            prepared.append(prepare_photo(pipeline, photo, choice, rules))
        except FacebankError as exc:
            exc.details.setdefault("photo_index", position)
            if photo.filename:
                exc.details.setdefault("filename", photo.filename)
            raise
    return prepared


def _overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes; 0 when they do not touch."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def new_face_record(face: Face, image: DecodedImage, media_ref: str, model_id: str) -> NewFace:
    """What the store keeps of an analysed face: vector, geometry, quality, photo."""
    rounded = face.detection.rounded()
    embedding = np.ascontiguousarray(face.embedding, dtype=np.float32)
    return NewFace(
        model_id=model_id,
        embedding=embedding.tobytes(),
        dim=int(embedding.size),
        box=rounded.box,
        landmarks=rounded.landmarks,
        det_score=rounded.score,
        quality=face.quality.as_dict(),
        media_ref=media_ref,
        media_type=image.format,
        image_width=image.width,
        image_height=image.height,
    )

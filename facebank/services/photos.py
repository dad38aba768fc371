"""Turning uploaded photos into one enrollable face each."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from facebank.errors import FacebankError, MultipleFacesError, NoFaceError
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage, Detection, Face
from facebank.store.people import NewFace


class FaceChoice(StrEnum):
    """How to pick the face to enroll from a photo with several faces."""

    AUTO = "auto"  # the dominant face when clearly larger than the rest, else refuse
    LARGEST = "largest"  # always the largest face


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str | None = None


@dataclass(frozen=True)
class EnrollableFace:
    photo: Photo
    image: DecodedImage
    face: Face


def choose_detection(
    detections: list[Detection], choice: FaceChoice, dominant_ratio: float
) -> Detection:
    """Pick the face to enroll; detections arrive sorted largest first."""
    if not detections:
        raise NoFaceError("no face was found in the photo")
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
    pipeline: FacePipeline, photo: Photo, choice: FaceChoice, dominant_ratio: float
) -> EnrollableFace:
    """Decode, detect, choose and embed one photo; only the chosen face is embedded."""
    image = pipeline.decode(photo.data)
    detection = choose_detection(pipeline.detect(image), choice, dominant_ratio)
    face = pipeline.embed(image, [detection])[0]
    return EnrollableFace(photo=photo, image=image, face=face)


def prepare_photos(
    pipeline: FacePipeline, photos: list[Photo], choice: FaceChoice, dominant_ratio: float
) -> list[EnrollableFace]:
    """Prepare every photo, naming the failing one so a multi-photo request is actionable."""
    prepared = []
    for position, photo in enumerate(photos):
        try:
            prepared.append(prepare_photo(pipeline, photo, choice, dominant_ratio))
        except FacebankError as exc:
            exc.details.setdefault("photo_index", position)
            if photo.filename:
                exc.details.setdefault("filename", photo.filename)
            raise
    return prepared


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

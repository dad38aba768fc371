"""JSON shapes of the v1 API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from facebank.services.index_sync import IndexStatus
from facebank.store.people import (
    Address,
    Age,
    ExternalId,
    Gender,
    Metadata,
    Name,
    PersonFields,
    PersonRecord,
)


class ErrorDetail(BaseModel):
    code: str = Field(examples=["no_face"])
    message: str = Field(examples=["no face was found in the photo"])
    details: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` a route documents: each status answers with the one error shape."""
    return {status: {"model": ErrorResponse} for status in statuses}


class PersonCreate(PersonFields):
    """A new person: the store's own person fields, so the two always agree."""


class PersonUpdate(BaseModel):
    # Only the fields sent change; null clears an optional one. Same types as PersonFields.
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    age: Age | None = None
    gender: Gender | None = None
    address: Address | None = None
    external_id: ExternalId | None = None
    metadata: Metadata | None = None


class PersonOut(PersonRecord):
    # The store's record as it is; model_validate(record) reads it from its attributes.
    model_config = ConfigDict(from_attributes=True)


class Quality(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    face_px: int = Field(description="shorter side of the face box in pixels")
    blur: float = Field(description="variance of the Laplacian of the aligned face; low = blurry")
    yaw: float = Field(description="rough head yaw in degrees from landmarks; 0 = frontal")
    pitch: float = Field(description="rough head pitch in degrees from landmarks")


class FaceGeometry(BaseModel):
    box: list[float] = Field(description="x1, y1, x2, y2 in image pixels")
    landmarks: list[list[float]] = Field(description="eyes, nose tip, mouth corners: [[x, y] x 5]")
    det_score: float
    quality: Quality


class FaceOut(FaceGeometry):
    # A FaceRecord's attributes plus the link to its photo (see convert.face_out).
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    model_id: str
    image_width: int
    image_height: int
    media_type: str
    created_at: datetime
    image_url: str


class PersonWithFaces(PersonOut):
    faces: list[FaceOut]


class PeoplePage(BaseModel):
    items: list[PersonOut]
    total: int
    page: int
    page_size: int
    pages: int


class Deleted(BaseModel):
    deleted: int
    faces_deleted: int = 0


class Match(BaseModel):
    person_id: int
    name: str
    external_id: str | None
    score: float = Field(description="cosine similarity of the best enrolled face of this person")
    face_id: int


class RecognizedFaceOut(FaceGeometry):
    match: Match | None = Field(description="best person at or above the threshold; null = unknown")
    candidates: list[Match] = Field(description="top-k distinct people, best first")
    unknown_face_id: int | None = Field(
        None, description="kept for review (keep_unknown): the unknown face's id"
    )
    unknown_cluster_id: int | None = Field(None, description="... and the cluster it joined")


class ImageSize(BaseModel):
    width: int
    height: int


class RecognizeResponse(BaseModel):
    image: ImageSize
    threshold: float
    model_id: str
    faces: list[RecognizedFaceOut]


class VerifyResponse(BaseModel):
    match: bool
    score: float
    threshold: float
    face_a: FaceGeometry
    face_b: FaceGeometry | None = None
    person: PersonOut | None = None
    person_face_id: int | None = None


class DetectResponse(BaseModel):
    image: ImageSize
    faces: list[FaceGeometry]


class EmbeddedFace(FaceGeometry):
    embedding: list[float]


class EmbeddingsResponse(BaseModel):
    image: ImageSize
    model_id: str
    dim: int
    faces: list[EmbeddedFace]


class IndexStatusOut(IndexStatus):
    """The index's state as the service reports it: one definition, named for the API."""


class ReembedFailure(BaseModel):
    face_id: int
    error: str


class ReembedOut(BaseModel):
    reembedded: int = Field(description="faces moved to the running model pack")
    failed: list[ReembedFailure] = Field(description="faces whose photo no longer yields the face")
    index: IndexStatusOut
    negatives_reembedded: int = Field(0, description='"not this person" labels moved with them')

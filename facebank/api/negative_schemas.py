"""JSON shapes of "not this person" labels (/api/v1/people/{id}/negatives)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class NegativeFromUnknown(BaseModel):
    """The JSON body that marks a kept unknown face as not this person."""

    model_config = ConfigDict(extra="forbid")

    unknown_face_id: int = Field(ge=1, description="a face of the unknowns review queue")


class NegativeOut(BaseModel):
    # A NegativeRecord's attributes plus the link to its crop (see routes/negatives.py).
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    model_id: str
    box: list[float] = Field(description="x1, y1, x2, y2 in the stored crop's pixels")
    landmarks: list[list[float]] = Field(description="[[x, y] x 5] in the stored crop's pixels")
    media_type: str
    unknown_face_id: int | None = Field(description="the unknown face it was made from, if any")
    created_by: str
    created_at: datetime
    image_url: str


class NegativeDeleted(BaseModel):
    deleted: int
    person_id: int

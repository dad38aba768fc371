"""Plain values crossing the store boundary. Callers never see ORM objects or sessions."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from numpy.typing import NDArray

from facebank.errors import ValidationFailedError
from facebank.store.validation import (
    check_length,
    check_media_ref,
    check_optional_length,
    check_text_key,
)

T = TypeVar("T")

NAME_MAX = 200
EXTERNAL_ID_MAX = 128
GENDER_MAX = 32
ADDRESS_MAX = 500
MODEL_ID_MAX = 64
MEDIA_TYPE_MAX = 16
AGE_MAX = 200


@dataclass(frozen=True)
class PersonRecord:
    id: int
    external_id: str | None
    name: str
    age: int | None
    gender: str | None
    address: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    face_count: int


@dataclass(frozen=True)
class FaceRecord:
    id: int
    person_id: int
    model_id: str
    box: list[float]  # [x1, y1, x2, y2] in original-image pixels
    landmarks: list[list[float]]  # [[x, y], ...], five points for the default detector
    det_score: float
    quality: dict[str, Any]
    media_ref: str
    media_type: str
    image_width: int
    image_height: int
    created_at: datetime


@dataclass(frozen=True)
class PersonFields:
    """Everything about a person that a caller sets. Validated on construction, so MySQL and
    PostgreSQL (which enforce lengths) and SQLite (which does not) accept the same values."""

    name: str
    age: int | None = None
    gender: str | None = None
    address: str | None = None
    external_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationFailedError("name must be a non-empty string", field="name")
        check_length("name", self.name, NAME_MAX)
        if self.age is not None and (
            isinstance(self.age, bool)
            or not isinstance(self.age, int)
            or not 0 <= self.age <= AGE_MAX
        ):
            raise ValidationFailedError(f"age must be an integer 0..{AGE_MAX}", field="age")
        check_optional_length("gender", self.gender, GENDER_MAX)
        check_optional_length("address", self.address, ADDRESS_MAX)
        if self.external_id is not None:
            check_text_key("external_id", self.external_id, EXTERNAL_ID_MAX)
        if not isinstance(self.metadata, dict):
            raise ValidationFailedError("metadata must be a JSON object", field="metadata")
        try:
            json.dumps(self.metadata, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationFailedError(
                f"metadata is not JSON-serialisable: {exc}", field="metadata"
            ) from exc


@dataclass(frozen=True)
class NewFace:
    """A face to store. `embedding` is `dim` little-endian float32 values (see
    `vectors.encode_embedding`); box and landmarks may be numpy arrays or tuples, they are
    normalised to lists of floats here so they serialise to JSON."""

    model_id: str
    embedding: bytes
    dim: int
    box: Sequence[float] | NDArray[Any]
    landmarks: Sequence[Sequence[float]] | NDArray[Any]
    det_score: float
    quality: Mapping[str, Any]
    media_ref: str
    media_type: str
    image_width: int
    image_height: int

    def __post_init__(self) -> None:
        check_text_key("model_id", self.model_id, MODEL_ID_MAX)
        if not isinstance(self.embedding, bytes | bytearray | memoryview):
            raise ValidationFailedError("embedding must be bytes", field="embedding")
        embedding = bytes(self.embedding)
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim <= 0:
            raise ValidationFailedError("dim must be a positive integer", field="dim")
        if len(embedding) != 4 * self.dim:
            raise ValidationFailedError(
                f"embedding has {len(embedding)} bytes, expected {4 * self.dim} (float32 x dim)",
                field="embedding",
            )
        box = _floats("box", self.box)
        if len(box) != 4:
            raise ValidationFailedError("box must be [x1, y1, x2, y2]", field="box")
        landmarks = tuple(_floats("landmarks", point) for point in self.landmarks)
        if any(len(point) != 2 for point in landmarks):
            raise ValidationFailedError("landmarks must be [x, y] pairs", field="landmarks")
        quality = dict(self.quality)
        try:
            json.dumps(quality, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationFailedError(f"quality is not JSON-serialisable: {exc}") from exc
        check_media_ref(self.media_ref)
        check_text_key("media_type", self.media_type, MEDIA_TYPE_MAX)
        # Frozen dataclass: normalised values are written through object.__setattr__.
        object.__setattr__(self, "embedding", embedding)
        object.__setattr__(self, "box", list(box))
        object.__setattr__(self, "landmarks", [list(point) for point in landmarks])
        object.__setattr__(self, "det_score", _finite("det_score", self.det_score))
        object.__setattr__(self, "quality", quality)
        object.__setattr__(self, "image_width", _positive_int("image_width", self.image_width))
        object.__setattr__(self, "image_height", _positive_int("image_height", self.image_height))


@dataclass(frozen=True)
class PersonFilter:
    """Search criteria; all given ones must hold. Text matches are case-insensitive."""

    q: str | None = None  # substring of the name
    name: str | None = None  # the whole name
    age_min: int | None = None
    age_max: int | None = None
    address: str | None = None  # substring of the address
    external_id: str | None = None  # exact, case-sensitive


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # matching rows in all pages
    offset: int
    limit: int


def _floats(name: str, values: Any) -> tuple[float, ...]:
    try:
        return tuple(_finite(name, v) for v in values)
    except TypeError as exc:
        raise ValidationFailedError(f"{name} must be a list of numbers", field=name) from exc


def _finite(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailedError(f"{name} must be a number", field=name) from exc
    if not math.isfinite(number):
        raise ValidationFailedError(f"{name} must be finite", field=name)
    return number


def _positive_int(name: str, value: Any) -> int:
    # numpy integers are fine (the pipeline reports sizes from array shapes); bools are not.
    if isinstance(value, bool | float | str) or not hasattr(value, "__index__"):
        raise ValidationFailedError(f"{name} must be a positive integer", field=name)
    number = int(value)
    if number <= 0:
        raise ValidationFailedError(f"{name} must be a positive integer", field=name)
    return number

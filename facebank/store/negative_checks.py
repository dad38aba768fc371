"""The checks a dump's "not this person" labels pass before they are loaded: what the API
holds a new label to (NewNegative), and each label of a person in the dump.

Labels are few (a handful per person at most), so each is checked on its own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from facebank.errors import FacebankError, ValidationFailedError
from facebank.store.gallery_dump import NEGATIVE_COLUMNS
from facebank.store.limits import ACTOR_NAME_MAX
from facebank.store.negatives import FaceGeometry, NewNegative
from facebank.store.validation import is_storable_id

_KEYS = frozenset(NEGATIVE_COLUMNS)
LANDMARKS = 5


def negative_rows(
    labels: Sequence[dict[str, Any]], person_ids: set[int], keep_ids: bool = True
) -> list[dict[str, Any]]:
    """The dumped labels as insertable rows, each of a person in `person_ids`; without
    their ids when `keep_ids` is false (a re-embedded restore, whose people are new)."""
    rows = [_checked(label, person_ids) for label in labels]
    ids = [row["id"] for row in rows]
    if len(set(ids)) != len(ids):
        raise ValidationFailedError("negative labels: an id appears twice in the dump")
    return rows if keep_ids else [{k: v for k, v in row.items() if k != "id"} for row in rows]


def _checked(label: dict[str, Any], person_ids: set[int]) -> dict[str, Any]:
    name = f"negative label {label.get('id')}"
    if label.keys() != _KEYS:
        raise ValidationFailedError(f"{name}: columns {sorted(label)} unexpected")
    for key in ("id", "person_id"):
        if type(label[key]) is not int or not is_storable_id(label[key]):
            raise ValidationFailedError(f"{name}: bad {key}")
    if label["person_id"] not in person_ids:
        raise ValidationFailedError(f"{name} belongs to no person in the dump")
    unknown = label["unknown_face_id"]
    if unknown is not None and (type(unknown) is not int or not is_storable_id(unknown)):
        raise ValidationFailedError(f"{name}: bad unknown_face_id")
    if type(label["created_by"]) is not str or len(label["created_by"]) > ACTOR_NAME_MAX:
        raise ValidationFailedError(f"{name}: created_by must be a name")
    created = label["created_at"]
    if not isinstance(created, datetime) or created.tzinfo is None:
        raise ValidationFailedError(f"{name}: created_at must be a time with its zone")
    _check_geometry(name, label)
    return dict(label)


def _check_geometry(name: str, label: dict[str, Any]) -> None:
    """Model id, media ref and type as NewNegative checks them; the embedding `dim`
    finite float32 values; a box of four and five [x, y] landmarks, all finite."""
    dim, embedding = label["dim"], label["embedding"]
    if type(dim) is not int or dim <= 0 or type(embedding) is not bytes:
        raise ValidationFailedError(f"{name}: the embedding is not dim float32 values")
    if len(embedding) != 4 * dim or not np.isfinite(np.frombuffer(embedding, "<f4")).all():
        raise ValidationFailedError(f"{name}: the embedding is not dim finite float32 values")
    box, points = label["box"], label["landmarks"]
    if not _numbers(box, 4) or not (
        isinstance(points, list)
        and len(points) == LANDMARKS
        and all(_numbers(p, 2) for p in points)
    ):
        raise ValidationFailedError(f"{name}: box or landmarks malformed")
    try:
        geometry = FaceGeometry(label["model_id"], embedding, dim, box, points)
        NewNegative(geometry, label["media_ref"], label["media_type"], label["created_by"])
    except (FacebankError, TypeError) as exc:
        raise ValidationFailedError(f"{name}: {exc}") from exc


def _numbers(values: Any, count: int) -> bool:
    """A list of `count` finite numbers (not bools)."""
    return (
        isinstance(values, list)
        and len(values) == count
        and all(type(v) in (int, float) and math.isfinite(v) for v in values)
    )

"""The checks a gallery dump's rows pass before a bulk load, done a column at a time.

Each row is held to what the API holds a new person or face to (PersonFields, NewFace),
but a face is checked as part of its column, with numpy where the values are numbers:
NewFace itself cost ~70 us a face and a per-row check ~17 us, most of a 100,000-face
restore. Faces are not copied: the load adds their shared `created_at` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from facebank.errors import ValidationFailedError
from facebank.store.gallery_dump import FACE_COLUMNS
from facebank.store.limits import MEDIA_TYPE_MAX, MODEL_ID_MAX
from facebank.store.people import PersonFields
from facebank.store.validation import MAX_ID, check_media_ref, check_text_key

_FACE_KEYS = frozenset(FACE_COLUMNS)


def person_rows(people: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dumped people as insertable rows (without their timestamps, which the load sets),
    each checked as the API checks a new person."""
    ids = _ids([person.get("id") for person in people], "person")
    return [
        {"id": int(i), **PersonFields(**{k: v for k, v in p.items() if k != "id"}).model_dump()}
        for i, p in zip(ids, people, strict=True)
    ]


def face_rows(
    faces: Sequence[dict[str, Any]], person_ids: set[int], embeddings: bytes
) -> Sequence[dict[str, Any]]:
    """Dumped faces, checked as insertable rows: the columns NewFace checks, each face of a
    person in the dump. `embeddings` is every face's embedding one after another (the
    archive's embeddings.f32): their values are checked in one pass over it."""
    if any(face.keys() != _FACE_KEYS for face in faces):
        bad = next(face for face in faces if face.keys() != _FACE_KEYS)
        raise ValidationFailedError(f"face {bad.get('id')}: columns {sorted(bad)} unexpected")
    _ids([face["id"] for face in faces], "face")
    owners = _ids([face["person_id"] for face in faces], "person")
    known = np.fromiter(person_ids, dtype=np.int64, count=len(person_ids))
    orphans = ~np.isin(owners, known)
    if orphans.any():
        face_id = faces[int(np.argmax(orphans))]["id"]
        raise ValidationFailedError(f"face {face_id} belongs to no person in the dump")
    _check_keys(faces)
    _check_embeddings(faces, embeddings)
    for name in ("image_width", "image_height"):
        if _positive_ints([face[name] for face in faces]) is None:
            raise ValidationFailedError(f"faces: {name} must be a positive integer")
    if not all(type(face["quality"]) is dict for face in faces):
        raise ValidationFailedError("faces: quality must be an object")
    _check_numbers(faces)
    return faces


def _ids(values: list[Any], kind: str) -> NDArray[np.int64]:
    """The ids as an array; each must be a storable id (a positive 64-bit integer)."""
    ids = _positive_ints(values)
    if ids is None or (ids.size and ids.max() > MAX_ID):
        raise ValidationFailedError(f"bad {kind} id in the dump")
    return ids


def _positive_ints(values: list[Any]) -> NDArray[np.int64] | None:
    """The values as int64, or None when one is not an int (bools are not) or not > 0."""
    if not set(map(type, values)) <= {int}:
        return None
    try:
        array = np.array(values, dtype=np.int64)
    except OverflowError:
        return None
    return array if not array.size or array.min() > 0 else None


def _check_keys(faces: Sequence[dict[str, Any]]) -> None:
    """model_id, media_type and media_ref: each distinct value checked once (a restore has
    a handful of models and types, and as many media refs as photos)."""
    try:
        model_ids = {face["model_id"] for face in faces}
        media_types = {face["media_type"] for face in faces}
        media_refs = {face["media_ref"] for face in faces}
    except TypeError as exc:  # an unhashable value: a list or an object
        problem = f"faces: a model id or media value is malformed ({exc})"
        raise ValidationFailedError(problem) from exc
    for value in model_ids:
        check_text_key("model_id", value, MODEL_ID_MAX)
    for value in media_types:
        check_text_key("media_type", value, MEDIA_TYPE_MAX)
    for value in media_refs:
        check_media_ref(value)


def _check_embeddings(faces: Sequence[dict[str, Any]], embeddings: bytes) -> None:
    """Each face's embedding is `dim` float32 values, and `embeddings` holds exactly them."""
    dims = _positive_ints([face["dim"] for face in faces])
    allowed = (bytes, memoryview)
    if dims is None or not all(type(face["embedding"]) in allowed for face in faces):
        raise ValidationFailedError("faces: an embedding is not dim float32 values")
    sizes = np.fromiter((len(face["embedding"]) for face in faces), np.int64, len(faces))
    if not np.array_equal(sizes, 4 * dims) or int(sizes.sum()) != len(embeddings):
        raise ValidationFailedError("faces: an embedding is not dim float32 values")
    if not np.isfinite(np.frombuffer(embeddings, dtype="<f4")).all():
        raise ValidationFailedError("faces: an embedding value is not finite")


def _check_numbers(faces: Sequence[dict[str, Any]]) -> None:
    """Boxes, landmarks and scores are finite numbers of the right shapes (JSON parsers
    accept NaN, which PostgreSQL's JSONB and the index would not)."""
    try:
        boxes = np.array([f["box"] for f in faces], dtype=np.float64).reshape(len(faces), 4)
        scores = np.array([f["det_score"] for f in faces], dtype=np.float64)
        points = np.array([p for f in faces for p in f["landmarks"]], dtype=np.float64)
    except (ValueError, TypeError) as exc:
        problem = f"faces: box, landmarks or det_score malformed ({exc})"
        raise ValidationFailedError(problem) from exc
    if points.size and points.shape[1:] != (2,):
        raise ValidationFailedError("faces: landmarks must be [x, y] pairs")
    for name, values in (("box", boxes), ("det_score", scores), ("landmarks", points)):
        if not np.isfinite(values).all():
            raise ValidationFailedError(f"faces: a {name} value is not finite")

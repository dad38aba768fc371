"""Input validation of NewFace and embedding encoding (no database)."""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pytest

from facebank.errors import ModelMismatchError, ValidationFailedError
from facebank.store.people import NewFace
from facebank.store.vectors import decode_embeddings, encode_embedding
from tests.store.factories import new_face


def _with(**changes: Any) -> None:
    base = new_face(0)
    values = {name: getattr(base, name) for name in base.__dataclass_fields__}
    NewFace(**{**values, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {"model_id": ""},
        {"model_id": "m" * 65},
        {"dim": 0},
        {"dim": 15},  # 16 floats of bytes, wrong dim
        {"embedding": "not bytes"},
        {"box": [1, 2, 3]},
        {"box": [1, 2, 3, float("inf")]},
        {"landmarks": [[1, 2, 3]]},
        {"landmarks": [1, 2]},
        {"det_score": "high"},
        {"quality": {"x": object()}},
        {"media_ref": "../" + "a" * 61},
        {"media_ref": "A" * 64},
        {"media_type": ""},
        {"image_width": 0},
        {"image_height": 1.5},
    ],
)
def test_new_face_rejects_bad_values(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailedError):
        _with(**changes)


def test_new_face_normalises_numpy_inputs() -> None:
    base = new_face(0)
    face = NewFace(
        model_id="m",
        embedding=cast(Any, bytearray(base.embedding)),
        dim=base.dim,
        box=np.array([1, 2, 3, 4], dtype=np.float32),
        landmarks=np.arange(10, dtype=np.float32).reshape(5, 2),
        det_score=cast(Any, np.float32(0.5)),
        quality={"blur": 1.0},
        media_ref=base.media_ref,
        media_type="png",
        image_width=cast(Any, np.int64(10)),
        image_height=20,
    )
    assert face.box == [1.0, 2.0, 3.0, 4.0] and type(face.box[0]) is float
    assert face.landmarks[2] == [4.0, 5.0]
    assert type(face.det_score) is float and type(face.image_width) is int
    assert isinstance(face.embedding, bytes)


def test_encode_decode() -> None:
    v = np.array([1.5, -2.0, 0.25], dtype=np.float64)
    blob = encode_embedding(v)
    assert blob == np.array([1.5, -2.0, 0.25], dtype="<f4").tobytes()
    out = decode_embeddings([blob, blob], [3, 3])
    assert out.shape == (2, 3) and out.dtype == np.float32 and out.flags.writeable
    with pytest.raises(ModelMismatchError):
        decode_embeddings([blob, blob[:8]], [3, 2])
    with pytest.raises(ValidationFailedError):
        encode_embedding(np.zeros((2, 2)))

"""Builders for store test data."""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

from facebank.store.people import NewFace, PersonFields
from facebank.store.vectors import encode_embedding

DIM = 16


def vector(seed: int, dim: int = DIM) -> NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def media_ref(seed: int) -> str:
    return hashlib.sha256(f"photo-{seed}".encode()).hexdigest()


def new_face(seed: int = 0, model_id: str = "model-a", dim: int = DIM) -> NewFace:
    return NewFace(
        model_id=model_id,
        embedding=encode_embedding(vector(seed, dim)),
        dim=dim,
        box=[10.5, 20.25, 110.0, 140.75],
        landmarks=[[30.0, 50.0], [70.0, 50.0], [50.0, 70.0], [35.0, 90.0], [65.0, 90.0]],
        det_score=0.87654321,
        quality={"face_px": 100, "blur": 123.5, "yaw": -3.25, "pitch": 1.5},
        media_ref=media_ref(seed),
        media_type="jpeg",
        image_width=640,
        image_height=480,
    )


def person(name: str = "Ada Lovelace", **kwargs: object) -> PersonFields:
    return PersonFields(name=name, **kwargs)

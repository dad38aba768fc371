"""Embedding bytes <-> numpy arrays. Stored format: little-endian float32, C order."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from facebank.errors import ModelMismatchError, ValidationFailedError

_STORED = np.dtype("<f4")


def encode_embedding(vector: NDArray[np.floating]) -> bytes:
    """One 1-D vector as the bytes `NewFace.embedding` expects."""
    array = np.asarray(vector)
    if array.ndim != 1 or array.size == 0:
        raise ValidationFailedError("an embedding must be a non-empty 1-D vector")
    return np.ascontiguousarray(array, dtype=_STORED).tobytes()


def decode_embeddings(blobs: Sequence[bytes], dims: Sequence[int]) -> NDArray[np.float32]:
    """Stack stored embeddings into a writable (n, dim) float32 array (FAISS normalises in
    place). An empty input gives shape (0, 0): the dimension is unknown without rows."""
    if not blobs:
        return np.zeros((0, 0), dtype=np.float32)
    dim = dims[0]
    if any(d != dim for d in dims):
        raise ModelMismatchError(
            "embeddings of different dimensions in one request", dims=sorted(set(dims))
        )
    flat = np.frombuffer(b"".join(blobs), dtype=_STORED)
    return flat.astype(np.float32, copy=True).reshape(len(blobs), dim)

"""Input checks for the index. Everything is checked before the index is touched, so a
bad call raises ValueError and leaves the index exactly as it was."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Vectors further than this from unit length are re-normalised. ArcFace output is
# already unit length; the tolerance only absorbs float32 round-off so the common
# case needs no copy of a possibly large batch.
_UNIT_TOLERANCE = 1e-4


def id_array(ids: ArrayLike, name: str) -> NDArray[np.int64]:
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    # Refuse floats rather than truncating 1.5 to 1 silently.
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def face_id_array(ids: ArrayLike) -> NDArray[np.int64]:
    arr = id_array(ids, "face_ids")
    # faiss reports "no result" as -1, so negative ids could never be told apart.
    if arr.size and int(arr.min()) < 0:
        raise ValueError("face ids must be non-negative")
    return arr


def unit_vectors(vectors: ArrayLike, dim: int, name: str = "vectors") -> NDArray[np.float32]:
    """(n, dim) float32, C-contiguous, each row L2-normalised so inner product = cosine."""
    arr = np.asarray(vectors)
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {arr.shape}")
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    x = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or infinity")
    # einsum avoids a full-size temporary, unlike np.linalg.norm.
    norms = np.sqrt(np.einsum("ij,ij->i", x, x, dtype=np.float64))
    if np.any(norms == 0.0):
        raise ValueError(f"{name} contain a zero vector")
    if np.all(np.abs(norms - 1.0) <= _UNIT_TOLERANCE):
        return x
    # Never normalise the caller's array in place.
    return np.asarray(x / norms[:, None], dtype=np.float32)


def query_vector(query: ArrayLike, dim: int) -> NDArray[np.float32]:
    """One query, given as (dim,) or (1, dim), returned as (1, dim) unit vector."""
    arr = np.asarray(query)
    if arr.shape not in ((dim,), (1, dim)):
        raise ValueError(f"query must have shape ({dim},), got {arr.shape}")
    return unit_vectors(arr.reshape(1, dim), dim, "query")


def roster_array(allowed_people: Collection[int]) -> NDArray[np.int64]:
    # Sorted and de-duplicated, so lookups can use searchsorted.
    return np.unique(np.fromiter(iter(allowed_people), dtype=np.int64))

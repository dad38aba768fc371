"""Checksum over face ids, shared by the index and the database side.

The services layer hashes the database's face ids with the same code and compares
count + checksum with the index, so the encoding (sorted, little-endian int64) must
never differ between the two. `IdsHasher` lets a caller stream ids page by page from
SQL without holding them all; it yields the same digest as `ids_checksum` on the whole.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _as_id_array(ids: ArrayLike) -> NDArray[np.int64]:
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(f"ids must be integers, got dtype {arr.dtype}")
    return arr.astype("<i8", copy=False)


class IdsHasher:
    """Incremental form of `ids_checksum`; feed ascending chunks, in order."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._last: int | None = None
        self.count = 0

    def update(self, sorted_ids: ArrayLike) -> None:
        arr = _as_id_array(sorted_ids)
        if arr.size == 0:
            return
        # An unsorted input would give a digest that never matches the other side;
        # fail loudly instead of reporting a bogus mismatch later.
        if np.any(arr[1:] < arr[:-1]) or (self._last is not None and arr[0] < self._last):
            raise ValueError("ids must be sorted ascending")
        self._sha.update(np.ascontiguousarray(arr).tobytes())
        self._last = int(arr[-1])
        self.count += int(arr.size)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def ids_checksum(sorted_ids: ArrayLike) -> str:
    """sha256 hex of the little-endian int64 bytes of the ascending ids."""
    hasher = IdsHasher()
    hasher.update(sorted_ids)
    return hasher.hexdigest()

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from facebank.index import IdsHasher, ids_checksum

from .helpers import build


def test_checksum_is_sha256_of_little_endian_int64() -> None:
    ids = np.array([1, 2, 300, 2**40], dtype=np.int64)
    want = hashlib.sha256(ids.astype("<i8").tobytes()).hexdigest()
    assert ids_checksum(ids) == want
    # Same value whatever integer dtype or container the caller has.
    assert ids_checksum(ids.astype(">i8")) == want
    assert ids_checksum([1, 2, 300, 2**40]) == want
    assert ids_checksum(np.array([], dtype=np.int64)) == hashlib.sha256(b"").hexdigest()


def test_checksum_is_stable() -> None:
    # Pinned so an accidental change of encoding (which would break every deployed
    # database/index comparison) fails here.
    assert (
        ids_checksum(np.arange(1, 6, dtype=np.int64))
        == hashlib.sha256(b"".join(i.to_bytes(8, "little") for i in range(1, 6))).hexdigest()
    )


def test_incremental_equals_whole() -> None:
    ids = np.arange(0, 10_000, 3, dtype=np.int64)
    hasher = IdsHasher()
    for chunk in np.array_split(ids, 7):
        hasher.update(chunk)
    assert hasher.hexdigest() == ids_checksum(ids)
    assert hasher.count == ids.size


def test_unsorted_rejected() -> None:
    with pytest.raises(ValueError, match="sorted"):
        ids_checksum(np.array([3, 1, 2], dtype=np.int64))
    hasher = IdsHasher()
    hasher.update(np.array([5, 6]))
    with pytest.raises(ValueError, match="sorted"):
        hasher.update(np.array([4]))
    with pytest.raises(ValueError, match="integers"):
        ids_checksum(np.array([1.0, 2.0]))


def test_index_checksum_matches_database_side() -> None:
    index, face_ids, _, _ = build(20, 3, 16)
    assert index.checksum() == ids_checksum(np.sort(face_ids))
    index.remove(face_ids[:5])
    assert index.checksum() == ids_checksum(np.sort(face_ids[5:]))

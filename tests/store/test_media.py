"""MediaStore: content-addressed, atomic, traversal-proof photo files."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from facebank.errors import NotFoundError, ValidationFailedError
from facebank.store.media import MediaStore


def test_put_read_path_delete(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    data = b"\xff\xd8 fake jpeg bytes"
    ref = store.put(data, "JPEG")
    assert ref == hashlib.sha256(data).hexdigest()
    assert store.path(ref) == tmp_path / "media" / ref[:2] / ref[2:4] / f"{ref}.jpeg"
    assert store.read(ref) == data and store.exists(ref)
    assert store.put(data, "jpeg") == ref  # idempotent
    assert store.put(data, "png") == ref  # same bytes: still one file
    assert list(store.iter_refs()) == [ref]
    assert not [p for p in store.path(ref).parent.iterdir() if p.name.startswith(".tmp-")]
    store.delete(ref)
    assert not store.exists(ref)
    store.delete(ref)  # missing is fine
    with pytest.raises(NotFoundError):
        store.path(ref)
    with pytest.raises(NotFoundError):
        store.read(ref)


@pytest.mark.parametrize(
    "ref",
    ["../../etc/passwd", "a" * 63, "a" * 65, "A" * 64, "/" + "a" * 63, "a" * 62 + "/.", ""],
)
def test_refs_are_validated_before_touching_the_disk(tmp_path: Path, ref: str) -> None:
    store = MediaStore(tmp_path)
    for call in (store.path, store.read, store.delete, store.exists):
        with pytest.raises(ValidationFailedError):
            call(ref)


@pytest.mark.parametrize("ext", ["", "../x", "jp/g", "a.b", "x" * 11])
def test_bad_extensions_are_refused(tmp_path: Path, ext: str) -> None:
    with pytest.raises(ValidationFailedError):
        MediaStore(tmp_path).put(b"data", ext)


def test_put_if_ref_stores_only_the_bytes_of_that_ref(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media")
    analysed = b"\xff\xd8 the bytes a worker analysed"
    ref = hashlib.sha256(analysed).hexdigest()
    assert not store.put_if_ref(b"\xff\xd8 changed meanwhile", "jpeg", ref)
    assert list(store.iter_refs()) == []  # nothing stored, under any name
    assert store.put_if_ref(analysed, "jpeg", ref)
    assert store.read(ref) == analysed
    assert store.put_if_ref(analysed, "jpeg", ref)  # idempotent, as put is
    assert list(store.iter_refs()) == [ref]
    with pytest.raises(ValidationFailedError):
        store.put_if_ref(analysed, "../x", ref)


def test_sweep_removes_unreferenced_and_stale_temp_files(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    keep = store.put(b"keep", "jpg")
    drop = store.put(b"drop", "png")
    leftover = store.path(keep).parent / ".tmp-crashed"
    leftover.write_bytes(b"half a photo")
    (tmp_path / "README").write_text("not ours, never swept")
    # Fresh files are protected: their enrollment may not have committed yet.
    assert store.sweep({keep}) == 0
    old = time.time() - 7200
    for path in (store.path(keep), store.path(drop), leftover):
        os.utime(path, (old, old))
    assert store.sweep({keep}) == 2
    assert set(store.iter_refs()) == {keep}
    assert not leftover.exists() and (tmp_path / "README").exists()
    assert store.sweep({keep}, min_age_s=0) == 0
    assert store.sweep(set(), min_age_s=0) == 1
    assert list(store.iter_refs()) == []


def test_empty_root(tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "absent")
    assert list(store.iter_refs()) == []
    assert store.sweep(set()) == 0

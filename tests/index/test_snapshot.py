"""Snapshot round trip, and every damaged form of it loading as None."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facebank.index import GalleryIndex, ids_checksum, load_snapshot, save_snapshot, snapshot

from .helpers import build, unit_vectors

DIM = 32
MODEL = "test-model"
STATE = {"max_face_id": 1399, "change_seq": 17}


@pytest.fixture
def saved(tmp_path: Path) -> tuple[GalleryIndex, Path]:
    index, *_ = build(100, 4, DIM, seed=4, model_id=MODEL)
    save_snapshot(index, tmp_path, STATE)
    return index, tmp_path


def meta_of(directory: Path) -> dict[str, Any]:
    meta: dict[str, Any] = json.loads((directory / "meta.json").read_text())
    return meta


def test_round_trip(saved: tuple[GalleryIndex, Path]) -> None:
    index, directory = saved
    loaded = load_snapshot(directory, DIM, MODEL)
    assert loaded is not None
    copy, state = loaded
    assert state == STATE
    assert (copy.dim, copy.model_id, copy.size, copy.person_count) == (DIM, MODEL, 400, 100)
    assert copy.face_ids().tolist() == index.face_ids().tolist()
    assert copy.checksum() == index.checksum()
    queries = unit_vectors(5, DIM, 50)
    assert copy.search(queries, 7) == index.search(queries, 7)
    assert copy.search(queries, 3, allowed_people={5, 6}) == index.search(
        queries, 3, allowed_people={5, 6}
    )
    assert copy.person_scores(queries[0], 9) == index.person_scores(queries[0], 9)
    meta = meta_of(directory)
    assert meta["count"] == 400
    assert meta["checksum"] == ids_checksum(index.face_ids())
    assert {"model_id", "dim", "saved_at", "db_state"} <= meta.keys()


def test_loaded_index_is_writable(saved: tuple[GalleryIndex, Path]) -> None:
    _, directory = saved
    loaded = load_snapshot(directory, DIM, MODEL)
    assert loaded is not None
    copy = loaded[0]
    vec = unit_vectors(1, DIM, 77)
    copy.add([5], [500], vec)
    assert copy.search(vec, 1)[0][0].person_id == 500
    assert copy.remove_person(1) == 4
    assert copy.size == 397


def test_empty_index_round_trip(tmp_path: Path) -> None:
    save_snapshot(GalleryIndex(DIM, MODEL), tmp_path, {})
    loaded = load_snapshot(tmp_path, DIM, MODEL)
    assert loaded is not None
    assert loaded[0].size == 0


def test_missing_snapshot(tmp_path: Path) -> None:
    assert load_snapshot(tmp_path / "nowhere", DIM, MODEL) is None
    assert load_snapshot(tmp_path, DIM, MODEL) is None


def test_model_or_dim_mismatch(saved: tuple[GalleryIndex, Path]) -> None:
    _, directory = saved
    assert load_snapshot(directory, DIM, "other-model") is None
    assert load_snapshot(directory, DIM * 2, MODEL) is None


def data_files(directory: Path) -> tuple[Path, Path]:
    meta = meta_of(directory)
    return directory / meta["index_file"], directory / meta["mapping_file"]


def flip_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("where", ["header", "middle", "end"])
def test_corrupt_data_file(saved: tuple[GalleryIndex, Path], which: int, where: str) -> None:
    _, directory = saved
    path = data_files(directory)[which]
    size = path.stat().st_size
    flip_byte(path, {"header": 2, "middle": size // 2, "end": size - 1}[where])
    assert load_snapshot(directory, DIM, MODEL) is None


@pytest.mark.parametrize("which", [0, 1])
def test_truncated_or_missing_data_file(saved: tuple[GalleryIndex, Path], which: int) -> None:
    _, directory = saved
    path = data_files(directory)[which]
    path.write_bytes(path.read_bytes()[:-100])
    assert load_snapshot(directory, DIM, MODEL) is None
    path.unlink()
    assert load_snapshot(directory, DIM, MODEL) is None


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.update(count=m["count"] - 1),
        lambda m: m.update(checksum="0" * 64),
        lambda m: m.update(index_file="../../etc/passwd"),
        lambda m: m.update(format=99),
        lambda m: m.pop("db_state"),
        lambda m: m.pop("files"),
    ],
)
def test_meta_disagreeing_with_data(saved: tuple[GalleryIndex, Path], edit: Any) -> None:
    _, directory = saved
    meta = meta_of(directory)
    edit(meta)
    (directory / "meta.json").write_text(json.dumps(meta))
    assert load_snapshot(directory, DIM, MODEL) is None


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '{"format": 1}', "\x00\x01"])
def test_torn_or_garbage_meta(saved: tuple[GalleryIndex, Path], text: str) -> None:
    _, directory = saved
    (directory / "meta.json").write_text(text)
    assert load_snapshot(directory, DIM, MODEL) is None


def test_consistent_data_mismatching_meta_checksum(saved: tuple[GalleryIndex, Path]) -> None:
    # Data files swapped for a different (internally valid) snapshot's: CRCs in the
    # meta no longer match, and neither would count/checksum.
    _, directory = saved
    other_dir = directory / "other"
    other, *_ = build(10, 2, DIM, seed=5, model_id=MODEL)
    save_snapshot(other, other_dir, {})
    for mine, theirs in zip(data_files(directory), data_files(other_dir), strict=True):
        mine.write_bytes(theirs.read_bytes())
    assert load_snapshot(directory, DIM, MODEL) is None


def test_crash_before_meta_keeps_old_snapshot(
    saved: tuple[GalleryIndex, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    index, directory = saved

    def crash(path: Path, data: bytes) -> None:
        raise OSError("power cut")

    newer, *_ = build(3, 1, DIM, seed=6, model_id=MODEL)
    monkeypatch.setattr(snapshot, "_write_atomic", crash)
    with pytest.raises(OSError, match="power cut"):
        save_snapshot(newer, directory, {"v": 2})
    loaded = load_snapshot(directory, DIM, MODEL)
    assert loaded is not None  # the previous generation is intact and still referenced
    assert loaded[1] == STATE
    assert loaded[0].face_ids().tolist() == index.face_ids().tolist()
    monkeypatch.undo()
    # The next good save replaces it and clears the orphaned files.
    save_snapshot(newer, directory, {"v": 3})
    loaded = load_snapshot(directory, DIM, MODEL)
    assert loaded is not None
    assert (loaded[0].size, loaded[1]) == (3, {"v": 3})
    assert sorted(p.name for p in directory.iterdir() if p.is_file()) == sorted(
        ["meta.json", *(p.name for p in data_files(directory))]
    )


def test_resave_replaces_generation(saved: tuple[GalleryIndex, Path]) -> None:
    index, directory = saved
    first = data_files(directory)
    index.remove_person(1)
    save_snapshot(index, directory, {"v": 2})
    second = data_files(directory)
    assert not any(p.exists() for p in first)
    assert all(p.exists() for p in second)
    loaded = load_snapshot(directory, DIM, MODEL)
    assert loaded is not None
    assert loaded[0].size == 396


def test_non_json_db_state_rejected_before_writing(tmp_path: Path) -> None:
    index, *_ = build(2, 1, DIM)
    with pytest.raises(TypeError):
        save_snapshot(index, tmp_path / "snap", {"bad": object()})
    assert not (tmp_path / "snap").exists()


def test_mapping_not_pickled(saved: tuple[GalleryIndex, Path]) -> None:
    _, directory = saved
    mapping = np.load(data_files(directory)[1], allow_pickle=False)
    assert mapping.dtype == np.int64 and mapping.shape == (2, 400)


def test_index_disagreeing_with_mapping(saved: tuple[GalleryIndex, Path]) -> None:
    # A mapping that is internally valid and matches the meta (sizes, CRC, checksum)
    # but names faces the faiss file does not hold.
    _, directory = saved
    _, mapping_file = data_files(directory)
    mapping = np.load(mapping_file)
    mapping[0] += 1
    np.save(mapping_file, mapping, allow_pickle=False)
    meta = meta_of(directory)
    meta["checksum"] = ids_checksum(mapping[0])
    meta["files"][mapping_file.name] = {
        "bytes": mapping_file.stat().st_size,
        "crc32": snapshot._crc32(mapping_file),
    }
    (directory / "meta.json").write_text(json.dumps(meta))
    assert load_snapshot(directory, DIM, MODEL) is None
    # Restoring the ids makes the very same files load again.
    mapping[0] -= 1
    np.save(mapping_file, mapping, allow_pickle=False)
    meta["checksum"] = ids_checksum(mapping[0])
    meta["files"][mapping_file.name]["crc32"] = snapshot._crc32(mapping_file)
    (directory / "meta.json").write_text(json.dumps(meta))
    assert load_snapshot(directory, DIM, MODEL) is not None


def _stages(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(snapshot.STAGE_PREFIX)]


def test_a_staged_snapshot_is_loaded_only_once_committed(tmp_path: Path) -> None:
    index, *_ = build(50, 2, DIM, seed=8, model_id=MODEL)
    staged = snapshot.stage_snapshot(index, tmp_path)
    assert (staged.count, staged.checksum) == (100, ids_checksum(index.face_ids()))
    assert load_snapshot(tmp_path, DIM, MODEL) is None  # staged: not a snapshot yet
    save_snapshot(GalleryIndex(DIM, MODEL), tmp_path, {"v": 1})  # another save meanwhile
    snapshot.commit_snapshot(staged, {"v": 2})
    loaded = load_snapshot(tmp_path, DIM, MODEL)
    assert loaded is not None
    assert (loaded[0].face_ids().tolist(), loaded[1]) == (index.face_ids().tolist(), {"v": 2})
    assert _stages(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["meta.json", *(p.name for p in data_files(tmp_path))]
    )


def test_a_discarded_stage_leaves_the_snapshot_as_it_was(saved: tuple[GalleryIndex, Path]) -> None:
    index, directory = saved
    newer, *_ = build(3, 1, DIM, seed=6, model_id=MODEL)
    snapshot.discard_snapshot(snapshot.stage_snapshot(newer, directory))
    assert _stages(directory) == []
    loaded = load_snapshot(directory, DIM, MODEL)
    assert loaded is not None
    assert (loaded[0].size, loaded[1]) == (index.size, STATE)


def test_a_crashed_restores_stage_is_removed_once_old(saved: tuple[GalleryIndex, Path]) -> None:
    index, directory = saved
    young = snapshot.stage_snapshot(index, directory).stage  # a restore still loading
    old = snapshot.stage_snapshot(index, directory).stage  # a crash left it behind
    long_ago = old.stat().st_mtime - snapshot.STAGE_MAX_AGE_S - 60
    os.utime(old, (long_ago, long_ago))
    save_snapshot(index, directory, {"v": 2})
    assert _stages(directory) == [young]

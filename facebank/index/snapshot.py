"""Snapshot the index to disk for a fast start, and load it back only if it is whole.

Layout of the snapshot directory:
    meta.json                 names the current generation; written last
    index-<gen>.faiss         faiss.write_index of the IndexIDMap2
    mapping-<gen>.npy         int64 (2, n): sorted face ids, their person ids
    sketch-<gen>.faiss        faiss.write_index_binary of the sketch codes, slot-aligned
                              with the index (only for a gallery large enough to have one)
    .stage-<gen>/             data files staged ahead of their commit (stage_snapshot)

Data files carry a fresh generation name and are never overwritten, and meta.json is
swapped in atomically after they are durable. A crash at any point therefore leaves
either the old meta with its old, intact files, or the new meta with its new files.
Anything else (truncation, bit rot, edits) is caught by sizes, CRC32s, count and the
id checksum, and the loader returns None so the caller rebuilds from the database.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from facebank.durable import fsync_dir
from facebank.index.checksum import ids_checksum
from facebank.index.gallery_index import GalleryIndex
from facebank.index.sketch import SKETCH_THRESHOLD, Sketch

log = logging.getLogger(__name__)

META_NAME = "meta.json"
FORMAT_VERSION = 1
_CHUNK = 16 << 20
# A staged snapshot (stage_snapshot) waits in a folder of this prefix for its commit; one
# older than this is a crashed restore's, removed by the next save.
STAGE_PREFIX = ".stage-"
STAGE_MAX_AGE_S = 3600.0
# Saves within this process are serialised: two interleaved saves could each delete
# the other's not-yet-referenced files while cleaning up.
_save_lock = threading.Lock()


@dataclass(frozen=True)
class StagedSnapshot:
    """A snapshot's data files, written and durable in a staging folder of the snapshot
    directory, that no meta.json references yet: `commit_snapshot` makes it the current
    one, `discard_snapshot` drops it. A restore stages its index while its rows are still
    going into the database and commits it once they are committed and checked."""

    directory: Path
    stage: Path
    files: dict[str, dict[str, int]]  # name: bytes, crc32
    fields: dict[str, Any]  # meta.json's own, but for saved_at and db_state

    @property
    def count(self) -> int:
        return int(self.fields["count"])

    @property
    def checksum(self) -> str:
        return str(self.fields["checksum"])


def save_snapshot(index: GalleryIndex, directory: Path, db_state: dict[str, Any]) -> None:
    """Write a snapshot of `index`; `db_state` (JSON-able) is returned by the loader."""
    json.dumps(db_state)  # fail on a non-JSON db_state before anything touches the disk
    commit_snapshot(stage_snapshot(index, directory), db_state)


def stage_snapshot(index: GalleryIndex, directory: Path) -> StagedSnapshot:
    """Write `index`'s data files (fsynced) under a fresh generation into a staging folder
    of `directory`, which cleaning up (`_remove_stale`) leaves alone while it is young."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    gen = uuid.uuid4().hex
    stage = directory / f"{STAGE_PREFIX}{gen}"
    stage.mkdir()
    index_name, mapping_name = f"index-{gen}.faiss", f"mapping-{gen}.npy"
    sketch_name = f"sketch-{gen}.faiss"
    try:
        count, checksum, sketch = index._write_files(
            stage / index_name, stage / mapping_name, stage / sketch_name
        )
        files = {}
        for name in (index_name, mapping_name) + ((sketch_name,) if sketch else ()):
            _fsync_file(stage / name)
            files[name] = {"bytes": (stage / name).stat().st_size, "crc32": _crc32(stage / name)}
        fsync_dir(stage)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    fields = {
        "format": FORMAT_VERSION,
        "model_id": index.model_id,
        "dim": index.dim,
        "count": count,
        "checksum": checksum,
        "index_file": index_name,
        "mapping_file": mapping_name,
        "sketch_file": sketch_name if sketch is not None else None,
        "sketch": sketch,
        "files": files,
    }
    return StagedSnapshot(directory, stage, files, fields)


def commit_snapshot(staged: StagedSnapshot, db_state: dict[str, Any]) -> None:
    """Move the staged files into place and swap in the meta.json naming them."""
    json.dumps(db_state)  # fail on a non-JSON db_state before anything touches the disk
    directory = staged.directory
    with _save_lock:
        try:
            for name in staged.files:
                os.replace(staged.stage / name, directory / name)
            fsync_dir(directory)
            meta = {**staged.fields, "saved_at": datetime.now(UTC).isoformat()}
            meta["db_state"] = db_state
            _write_atomic(directory / META_NAME, json.dumps(meta, indent=2).encode())
        finally:
            shutil.rmtree(staged.stage, ignore_errors=True)
        _remove_stale(directory, keep=set(staged.files))


def discard_snapshot(staged: StagedSnapshot) -> None:
    """Drop a staged snapshot that will not be committed (its load failed)."""
    shutil.rmtree(staged.stage, ignore_errors=True)


def load_snapshot(
    directory: Path, dim: int, model_id: str, sketch_threshold: int = SKETCH_THRESHOLD
) -> tuple[GalleryIndex, dict[str, Any]] | None:
    """The saved index and its `db_state`, or None if missing, damaged or for another model.

    Never raises: any problem means "rebuild from the database", which is always safe.
    """
    try:
        return _load(Path(directory), dim, model_id, sketch_threshold)
    except Exception as exc:  # a damaged file can fail in many ways; all mean "rebuild"
        log.warning("index snapshot in %s unusable: %s", directory, exc)
        return None


class _Unusable(Exception):
    pass


def _load(
    directory: Path, dim: int, model_id: str, sketch_threshold: int
) -> tuple[GalleryIndex, dict[str, Any]] | None:
    meta_path = directory / META_NAME
    if not meta_path.is_file():
        log.info("no index snapshot in %s", directory)
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("format") != FORMAT_VERSION:
        raise _Unusable(f"format {meta.get('format')!r}, expected {FORMAT_VERSION}")
    if meta["model_id"] != model_id or meta["dim"] != dim:
        log.info(
            "index snapshot is for model %r dim %s; want %r dim %s",
            meta["model_id"],
            meta["dim"],
            model_id,
            dim,
        )
        return None
    count = int(meta["count"])
    index_path = _checked_file(directory, meta, meta["index_file"])
    mapping_path = _checked_file(directory, meta, meta["mapping_file"])

    mapping = np.load(mapping_path, allow_pickle=False)
    if mapping.dtype != np.int64 or mapping.shape != (2, count):
        raise _Unusable(f"mapping {mapping.dtype} {mapping.shape}, expected int64 (2, {count})")
    face_ids, person_ids = mapping[0], mapping[1]
    if np.any(face_ids[1:] <= face_ids[:-1]):
        raise _Unusable("mapping face ids not strictly ascending")
    if ids_checksum(face_ids) != meta["checksum"]:
        raise _Unusable("face id checksum differs from meta")

    index = faiss.read_index(str(index_path))
    if not isinstance(index, faiss.IndexIDMap2):
        raise _Unusable(f"index is {type(index).__name__}, expected IndexIDMap2")
    if index.metric_type != faiss.METRIC_INNER_PRODUCT or index.d != dim:
        raise _Unusable(f"index metric {index.metric_type} dim {index.d}")
    if index.ntotal != count:
        raise _Unusable(f"index holds {index.ntotal} faces, meta says {count}")
    if not np.array_equal(np.sort(faiss.vector_to_array(index.id_map)), face_ids):
        raise _Unusable("index ids differ from mapping")
    db_state = meta.get("db_state")
    if not isinstance(db_state, dict):
        raise _Unusable("db_state missing")
    sketch = _load_sketch(directory, meta, dim, count)
    gallery = GalleryIndex._from_parts(
        model_id, index, face_ids, person_ids, sketch, sketch_threshold
    )
    return gallery, db_state


def _load_sketch(directory: Path, meta: dict[str, Any], dim: int, count: int) -> Sketch | None:
    """The saved sketch, or None when there is none or it was made another way (the
    gallery then builds it afresh from the vectors); a damaged file is _Unusable."""
    name = meta.get("sketch_file")
    if name is None:
        return None
    path = _checked_file(directory, meta, name)
    sketch = Sketch(dim, faiss.read_index_binary(str(path)))
    if meta.get("sketch") != sketch.signature():
        log.info("snapshot sketch %s is not this version's; rebuilding it", meta.get("sketch"))
        return None
    if sketch.ntotal != count:
        raise _Unusable(f"sketch holds {sketch.ntotal} codes, meta says {count}")
    return sketch


def _checked_file(directory: Path, meta: dict[str, Any], name: str) -> Path:
    # Names come from a file on disk; never let one point outside the directory.
    if not isinstance(name, str) or Path(name).name != name or name.startswith("."):
        raise _Unusable(f"bad file name {name!r}")
    path = directory / name
    expected = meta["files"][name]
    size = path.stat().st_size
    if size != expected["bytes"]:
        raise _Unusable(f"{name} is {size} bytes, meta says {expected['bytes']}")
    # CRC32 streams at ~7 GB/s here: catches bit rot for ~30 ms per 200 MB.
    if _crc32(path) != expected["crc32"]:
        raise _Unusable(f"{name} CRC mismatch")
    return path


def _crc32(path: Path) -> int:
    crc = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale(directory: Path, keep: set[str]) -> None:
    """Delete older generations, leftovers of interrupted saves, and staging folders old
    enough that no restore can still be using them (one a crash left behind)."""
    stale_stage = time.time() - STAGE_MAX_AGE_S
    for path in directory.iterdir():
        name = path.name
        ours = name.startswith(
            ("index-", "mapping-", "sketch-", ".index-", ".mapping-", ".sketch-")
        )
        if ours and name not in keep and path.is_file():
            path.unlink(missing_ok=True)
        elif name.startswith(STAGE_PREFIX) and path.is_dir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < stale_stage:
                    shutil.rmtree(path, ignore_errors=True)

"""The export archive: one zip format, one writer and one reader.

Layout (format 3): people.jsonl, embeddings.f32 (every face's embedding, little-endian
float32, one after another in the order of faces.jsonl), faces.jsonl (every other column;
each row's `dim` says how many values are its own), photos/<media hash>.<ext>,
negatives.jsonl (the "not this person" labels, every column, the embedding as base64: they
are few), negative_crops/<media hash>.<ext> (each label's own crop), and manifest.json
last, with the format version, facebank version, model id, counts and the sha256 of every
other entry. Embeddings are raw bytes rather than base64 in the JSON lines (format 1,
still read) because parsing them was most of a restore's time. Formats 1 and 2 (without
labels) are still read, as archives without labels. The writer
streams to any binary file (a file or an HTTP response); the reader refuses a truncated or
corrupt archive before anything is read into the gallery.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import orjson

from facebank import __version__
from facebank.errors import ArchiveInvalidError

FORMAT = "facebank-export"
FORMAT_VERSION = 3
READABLE_VERSIONS = frozenset({1, 2, 3})
LABELS_SINCE = 3  # the first format with negatives.jsonl
MANIFEST = "manifest.json"
PEOPLE = "people.jsonl"
FACES = "faces.jsonl"
EMBEDDINGS = "embeddings.f32"
PHOTOS = "photos/"
NEGATIVES = "negatives.jsonl"
CROPS = "negative_crops/"
ARCHIVE_SUFFIX = ".zip"
MEDIA_TYPE = "application/zip"


def photo_entry(media_ref: str, media_type: str) -> str:
    return f"{PHOTOS}{media_ref}.{media_type.lower()}"


def crop_entry(media_ref: str, media_type: str) -> str:
    return f"{CROPS}{media_ref}.{media_type.lower()}"


def _encode_negative(label: dict[str, Any]) -> dict[str, Any]:
    """A label row as JSON: its embedding as base64, its time as ISO 8601."""
    embedding = base64.b64encode(bytes(label["embedding"])).decode()
    return {**label, "embedding": embedding, "created_at": label["created_at"].isoformat()}


def _decode_negative(label: dict[str, Any]) -> dict[str, Any]:
    """The stored row back (gallery_checks.negative_rows checks its values)."""
    created = datetime.fromisoformat(label["created_at"])
    return {**label, "embedding": binascii.a2b_base64(label["embedding"]), "created_at": created}


def _decode_v1_face(face: dict[str, Any]) -> dict[str, Any]:
    # binascii straight away: b64decode's argument handling doubled the cost per face.
    return {**face, "embedding": binascii.a2b_base64(face["embedding"])}


class ArchiveWriter:
    """Writes entries one at a time, hashing as it goes; `close` adds the manifest."""

    def __init__(self, stream: IO[bytes], model_id: str) -> None:
        self._zip = zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED)
        self._sums: dict[str, str] = {}
        self._model_id = model_id
        self._counts = {"people": 0, "faces": 0, "photos": 0, "negatives": 0, "negative_crops": 0}

    def write_lines(self, name: str, rows: Iterable[dict[str, Any]], count: str) -> None:
        digest = hashlib.sha256()
        with self._zip.open(name, "w", force_zip64=True) as entry:
            for row in rows:
                line = (json.dumps(row, sort_keys=True, allow_nan=False) + "\n").encode()
                digest.update(line)
                entry.write(line)
                self._counts[count] += 1
        self._sums[name] = digest.hexdigest()

    def write_faces(self, faces: Sequence[dict[str, Any]]) -> None:
        """The faces' embeddings as one binary entry, then their other columns as lines."""
        digest = hashlib.sha256()
        with self._zip.open(EMBEDDINGS, "w", force_zip64=True) as entry:
            for face in faces:
                digest.update(face["embedding"])
                entry.write(face["embedding"])
        self._sums[EMBEDDINGS] = digest.hexdigest()
        rows = ({k: v for k, v in face.items() if k != "embedding"} for face in faces)
        self.write_lines(FACES, rows, "faces")

    def write_negatives(self, labels: Iterable[dict[str, Any]]) -> None:
        self.write_lines(NEGATIVES, map(_encode_negative, labels), "negatives")

    def write_photo(self, name: str, source: Path, count: str = "photos") -> None:
        digest = hashlib.sha256()
        with source.open("rb") as handle, self._zip.open(name, "w", force_zip64=True) as entry:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                entry.write(chunk)
        self._sums[name] = digest.hexdigest()
        self._counts[count] += 1

    def close(self) -> None:
        if NEGATIVES not in self._sums:  # a gallery without labels still says so
            self.write_negatives(())
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "facebank_version": __version__,
            "model_id": self._model_id,
            "counts": self._counts,
            "sha256": self._sums,
        }
        self._zip.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
        self._zip.close()


@dataclass(frozen=True)
class Archive:
    """The checked rows. Each face's `embedding` is a view into `embeddings`, which holds
    every face's embedding one after another (in `faces` order): a restore checks and
    indexes them as one array instead of 100,000 small ones. `negatives` are the labels'
    rows (none in an archive of format 1 or 2), each with its embedding as bytes."""

    manifest: dict[str, Any]
    people: list[dict[str, Any]]
    faces: list[dict[str, Any]]
    path: Path
    embeddings: bytes = b""
    negatives: list[dict[str, Any]] = field(default_factory=list)

    @property
    def model_id(self) -> str:
        return str(self.manifest["model_id"])

    def photo(self, media_ref: str, media_type: str) -> bytes:
        with zipfile.ZipFile(self.path) as archive:
            return archive.read(photo_entry(media_ref, media_type))

    def photos(self, wanted: Iterable[tuple[str, str]]) -> Iterator[tuple[str, bytes | None]]:
        """(media ref, bytes) of each wanted (media ref, media type), through one open zip;
        None for a photo the archive lacks (the export found it missing from the media)."""
        return self._files(wanted, photo_entry)

    def crops(self, wanted: Iterable[tuple[str, str]]) -> Iterator[tuple[str, bytes | None]]:
        """As `photos`, for the labels' crops."""
        return self._files(wanted, crop_entry)

    def _files(
        self, wanted: Iterable[tuple[str, str]], entry: Callable[[str, str], str]
    ) -> Iterator[tuple[str, bytes | None]]:
        with zipfile.ZipFile(self.path) as archive:
            names = set(archive.namelist())
            for media_ref, media_type in wanted:
                name = entry(media_ref, media_type)
                yield media_ref, archive.read(name) if name in names else None


def is_archive(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ARCHIVE_SUFFIX


def read_archive(path: Path) -> Archive:
    """The archive's manifest and rows, after every entry's checksum was verified."""
    try:
        with zipfile.ZipFile(path) as archive, ThreadPoolExecutor(1) as pool:
            manifest = json.loads(archive.read(MANIFEST))
            _check_manifest(manifest, set(archive.namelist()))
            sums = manifest["sha256"]
            # hashlib lets go of the GIL: the photos and the embeddings are hashed on another
            # thread while the rows are parsed here (a quarter of a large archive's reading).
            blobs = pool.submit(_verified_blobs, path, manifest)
            # The rows are hashed on the very bytes that are parsed: read once.
            people = _lines(_checked(archive, PEOPLE, sums[PEOPLE], path))
            faces = _lines(_checked(archive, FACES, sums[FACES], path))
            negatives = _negatives(archive, manifest, path)
            embeddings = blobs.result()
            if manifest["format_version"] == 1:
                faces = [_decode_v1_face(f) for f in faces]
                embeddings = b"".join(f["embedding"] for f in faces)
            else:
                _attach_embeddings(faces, embeddings)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as exc:
        raise ArchiveInvalidError(f"{path}: not a readable facebank export ({exc})") from exc
    counts = manifest["counts"]
    if (counts.get("people"), counts.get("faces"), counts.get("negatives", 0)) != (
        len(people), len(faces), len(negatives)
    ):  # fmt: skip
        raise ArchiveInvalidError(f"{path}: counts do not match the manifest")
    return Archive(manifest, people, faces, path, embeddings, negatives)


def _negatives(
    archive: zipfile.ZipFile, manifest: dict[str, Any], path: Path
) -> list[dict[str, Any]]:
    """The labels' rows (none before format 3)."""
    if manifest["format_version"] < LABELS_SINCE:
        return []
    data = _checked(archive, NEGATIVES, manifest["sha256"][NEGATIVES], path)
    return [_decode_negative(label) for label in _lines(data)]


def _verified_blobs(path: Path, manifest: dict[str, Any]) -> bytes:
    """Every entry but the JSON lines checked against its checksum; the embeddings' bytes
    (empty in format 1, where they are inside faces.jsonl)."""
    sums = manifest["sha256"]
    with zipfile.ZipFile(path) as archive:  # its own: the caller reads through the other
        for name, expected in sums.items():
            if (
                name not in (PEOPLE, FACES, EMBEDDINGS, NEGATIVES)
                and _sha256(archive, name) != expected
            ):
                raise ArchiveInvalidError(f"{path}: {name} does not match its checksum")
        if manifest["format_version"] == 1:
            return b""
        return _checked(archive, EMBEDDINGS, sums[EMBEDDINGS], path)


def _attach_embeddings(faces: list[dict[str, Any]], data: bytes) -> None:
    """Gives each face its `dim` float32 values, in order; every byte must be accounted.
    Views, not copies: copying 200 MB of embeddings a face at a time cost ~0.4 s."""
    view, at = memoryview(data), 0
    for face in faces:
        size = 4 * face["dim"]
        if type(face["dim"]) is not int or face["dim"] <= 0 or at + size > len(data):
            raise ArchiveInvalidError(f"face {face.get('id')}: its embedding is not in the archive")
        face["embedding"] = view[at : at + size]
        at += size
    if at != len(data):
        raise ArchiveInvalidError(f"{EMBEDDINGS} holds {len(data) - at} bytes no face claims")


def _check_manifest(manifest: Any, names: set[str]) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveInvalidError("not a facebank export archive (no manifest)")
    if manifest.get("format_version") not in READABLE_VERSIONS:
        raise ArchiveInvalidError(f"archive format {manifest.get('format_version')} unsupported")
    missing = set(manifest.get("sha256", {})) - names
    version = manifest["format_version"]
    needed = {PEOPLE, FACES} | ({EMBEDDINGS} if version > 1 else set())
    needed |= {NEGATIVES} if version >= LABELS_SINCE else set()
    if missing or needed - set(manifest.get("sha256", {})):
        raise ArchiveInvalidError(f"archive is missing entries: {sorted(missing)[:5]}")


def _checked(archive: zipfile.ZipFile, name: str, expected: str, path: Path) -> bytes:
    data = archive.read(name)
    if hashlib.sha256(data).hexdigest() != expected:
        raise ArchiveInvalidError(f"{path}: {name} does not match its checksum")
    return data


def _sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as entry:
        while chunk := entry.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _lines(data: bytes) -> list[dict[str, Any]]:
    # orjson: a third of the stdlib's parse time, the bulk of reading a large archive.
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]

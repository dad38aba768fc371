"""Writes the whole gallery as an export archive, from one transaction snapshot: people,
faces and their photos, and the "not this person" labels with their crops."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from facebank.services.export_archive import (
    PEOPLE,
    ArchiveWriter,
    crop_entry,
    photo_entry,
)
from facebank.store.gallery_dump import read_gallery
from facebank.store.media import MediaStore
from facebank.store.tx import SessionFactory


class Exporter:
    def __init__(self, sessions: SessionFactory, media: MediaStore, model_id: str) -> None:
        self._sessions = sessions
        self._media = media
        self._model_id = model_id

    def write(self, stream: IO[bytes]) -> dict[str, int]:
        """Stream the archive into `stream`; the counts it holds."""
        dump = read_gallery(self._sessions)
        writer = ArchiveWriter(stream, self._model_id)
        writer.write_lines(PEOPLE, dump.people, "people")
        writer.write_faces(dump.faces)
        photos = self._write_files(writer, dump.faces, photo_entry, "photos")
        writer.write_negatives(dump.negatives)
        crops = self._write_files(writer, dump.negatives, crop_entry, "negative_crops")
        writer.close()
        return {
            "people": len(dump.people),
            "faces": len(dump.faces),
            "photos": photos,
            "negatives": len(dump.negatives),
            "negative_crops": crops,
        }

    def _write_files(
        self,
        writer: ArchiveWriter,
        rows: list[dict[str, Any]],
        entry: Callable[[str, str], str],
        count: str,
    ) -> int:
        """Each distinct media file the rows name, once; how many were written (a file
        missing from the media store is left out: the restore reports it)."""
        written: set[str] = set()
        for row in rows:
            name = entry(row["media_ref"], row["media_type"])
            if name not in written and self._media.exists(row["media_ref"]):
                writer.write_photo(name, self._media.path(row["media_ref"]), count)
                written.add(name)
        return len(written)

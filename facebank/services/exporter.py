"""Writes the whole gallery as an export archive, from one transaction snapshot."""

from __future__ import annotations

from typing import IO

from facebank.services.export_archive import (
    PEOPLE,
    ArchiveWriter,
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
        written: set[str] = set()
        for face in dump.faces:
            name = photo_entry(face["media_ref"], face["media_type"])
            if name not in written and self._media.exists(face["media_ref"]):
                writer.write_photo(name, self._media.path(face["media_ref"]))
                written.add(name)
        writer.close()
        return {"people": len(dump.people), "faces": len(dump.faces), "photos": len(written)}

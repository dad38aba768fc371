"""Restores an export archive into an empty gallery: the fast path, or re-embedding.

When the archive was written under the running model pack, its rows go straight in
(store.gallery_load): people and faces with their ids, embeddings, boxes, landmarks,
quality and photos, no model work at all. Photos are copied into the media store first
(content-addressed, each checked against its hash), then every row is inserted in one
transaction, then the index is built once and its snapshot saved, so a server starting
on the restored gallery loads it instead of rebuilding.

Crash safety: photos before rows, so a committed face always has its photo; a crash before
the commit leaves the gallery empty (and a few unreferenced photos, which the next run
reuses and a media sweep would remove), so running the restore again simply redoes it. A
crash after the commit leaves the whole gallery: running again sees that it holds exactly
the archive's people and faces and only (re)builds the index. Any other non-empty gallery
is refused (GalleryNotEmptyError), with nothing written.

Under another model pack the embeddings are useless, so `reembed` enrolls every person
again from the archive's photos through the Importer (see restore_reembed).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facebank.auth.principal import Principal
from facebank.config import Settings
from facebank.errors import ArchiveInvalidError, GalleryNotEmptyError
from facebank.services.audit import Action, AuditService, Target
from facebank.services.export_archive import Archive
from facebank.services.import_archive import remove, unpack
from facebank.services.import_report import ImportSummary
from facebank.services.importer import Importer, Progress
from facebank.services.index_sync import IndexManager
from facebank.services.photos import FaceChoice
from facebank.services.restore_reembed import archive_source, check_resumable, unpack_limits
from facebank.store.gallery_load import face_rows, gallery_ids, load_gallery, person_rows
from facebank.store.media import MediaStore, media_ref
from facebank.store.people import FaceRepository, PeopleRepository
from facebank.store.tx import SessionFactory
from facebank.store.vectors import decode_embeddings

RESTORED = "restored"  # the archive's rows as they are
ALREADY = "already_restored"  # an earlier run committed them: nothing added
REEMBEDDED = "reembedded"  # enrolled again from the photos under the running model


@dataclass
class RestoreSummary:
    mode: str
    people: int = 0
    faces: int = 0
    photos: int = 0
    photos_missing: int = 0  # faces whose photo the archive did not hold
    index_size: int = 0
    elapsed_s: float = 0.0
    imported: ImportSummary | None = None  # the re-embed path's import counts and skips

    @property
    def faces_per_s(self) -> float:
        return self.faces / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_text(self) -> str:
        return (
            f"{self.mode}: {self.people} people, {self.faces} faces, {self.photos} photos "
            f"({self.photos_missing} missing) in {self.elapsed_s:.2f} s "
            f"({self.faces_per_s:,.0f} faces/s); index: {self.index_size} faces"
        )


class Restorer:
    def __init__(
        self,
        settings: Settings,
        sessions: SessionFactory,
        media: MediaStore,
        audit: AuditService,
        importer: Importer,
        model_id: str,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._media = media
        self._audit = audit
        self._importer = importer
        self._model_id = model_id

    @property
    def model_id(self) -> str:
        return self._model_id

    def run(
        self,
        actor: Principal,
        archive: Archive,
        summary: ImportSummary,
        workers: int,
        progress: Progress | None = None,
    ) -> RestoreSummary:
        """The fast path when the archive is of the running model, else the re-embed path."""
        if archive.model_id == self._model_id:
            return self.restore(actor, archive)
        return self.reembed(actor, archive, summary, workers, progress)

    def restore(self, actor: Principal, archive: Archive) -> RestoreSummary:
        """The fast path: the archive's rows as they are (its model must be the running one)."""
        started = time.monotonic()
        if archive.model_id != self._model_id:
            raise ArchiveInvalidError(
                f"the archive is of model {archive.model_id}, not {self._model_id}: re-embed it"
            )
        if self._already_restored(archive):
            summary = RestoreSummary(ALREADY)
        else:
            people = person_rows(archive.people)
            faces = face_rows(archive.faces, {p["id"] for p in people})
            summary = RestoreSummary(RESTORED, len(people), len(faces))
            summary.photos, summary.photos_missing = self._copy_photos(archive)
            load_gallery(self._sessions, people, faces)
        summary.index_size = self._index_from(archive)
        summary.elapsed_s = time.monotonic() - started
        self.record(actor, archive, summary)
        return summary

    def build_index(self) -> int:
        """Build the running model's index from the database once and save its snapshot,
        which a starting server loads as it is (its face ids match the database's)."""
        faces = FaceRepository(self._sessions)
        dim = _dim_of(faces, self._model_id)
        if dim is None:
            return 0
        return self._index_manager(dim).rebuild().index_size

    def reembed(
        self,
        actor: Principal,
        archive: Archive,
        summary: ImportSummary,
        workers: int,
        progress: Progress | None = None,
    ) -> RestoreSummary:
        """Enroll the archive's people again from its photos under the running model,
        filling `summary` as an import does (so an interrupted caller has the skips)."""
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=".restore-", dir=self._settings.data_dir))
        try:
            unpacked = unpack(archive.path, work, *unpack_limits(archive.path))
            source = archive_source(archive, unpacked)
            check_resumable(PeopleRepository(self._sessions), source)
            # The archive holds what was enrolled, duplicates allowed then included.
            self._importer.run(
                actor, source, summary, workers, FaceChoice.AUTO, progress, allow_duplicate=True
            )
        finally:
            remove(work)
        result = RestoreSummary(REEMBEDDED, summary.people_created, summary.faces_added)
        result.photos, result.imported = summary.photos_total, summary
        result.index_size = self.build_index()
        result.elapsed_s = time.monotonic() - started
        self.record(actor, archive, result)
        return result

    def _index_from(self, archive: Archive) -> int:
        """The index from the archive's own rows of the running model (checked against
        the database by IndexManager.replace), without reading the embeddings back."""
        ours = [f for f in archive.faces if f["model_id"] == self._model_id]
        if not ours:
            return self.build_index()
        dim = int(ours[0]["dim"])
        vectors = decode_embeddings([f["embedding"] for f in ours], [f["dim"] for f in ours])
        face_ids = np.fromiter((f["id"] for f in ours), dtype=np.int64, count=len(ours))
        person_ids = np.fromiter((f["person_id"] for f in ours), dtype=np.int64, count=len(ours))
        return self._index_manager(dim).replace(face_ids, person_ids, vectors).index_size

    def _index_manager(self, dim: int) -> IndexManager:
        """The index as the server builds it (same snapshot place and kind by size), so
        the snapshot saved here is the one a starting server loads."""
        return IndexManager(
            FaceRepository(self._sessions),
            self._model_id,
            dim,
            self._settings.index_dir,
            sketch_threshold=self._settings.index_sketch_threshold,
        )

    def record(self, actor: Principal, archive: Archive, summary: RestoreSummary) -> None:
        details: dict[str, Any] = {
            "archive": archive.path.name,
            "archive_model_id": archive.model_id,
            "mode": summary.mode,
            "people": summary.people,
            "faces": summary.faces,
            "photos": summary.photos,
        }
        self._audit.record(actor, Action.RESTORE, Target.GALLERY, None, details)

    def _already_restored(self, archive: Archive) -> bool:
        people, faces = gallery_ids(self._sessions)
        if not people:
            return False
        if people == {p.get("id") for p in archive.people} and faces == {
            f.get("id") for f in archive.faces
        }:
            return True
        raise GalleryNotEmptyError(
            f"the gallery already has people ({len(people)}): restore into an empty one",
            people=len(people),
        )

    def _copy_photos(self, archive: Archive) -> tuple[int, int]:
        """Copy each distinct photo into the media store; (copied, missing from the archive)."""
        wanted = sorted({(f["media_ref"], f["media_type"]) for f in archive.faces})
        types = dict(wanted)
        copied = missing = 0
        for ref, data in archive.photos(wanted):
            if data is None:
                missing += 1
                continue
            if media_ref(data) != ref:
                raise ArchiveInvalidError(f"photo {ref} does not match its hash")
            if not self._media.exists(ref):
                self._media.put(data, types[ref])
            copied += 1
        return copied, missing


def _dim_of(faces: FaceRepository, model_id: str) -> int | None:
    for _, _, vectors in faces.iter_embeddings(model_id, batch=1):
        return int(vectors.shape[1])
    return None

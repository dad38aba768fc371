"""Use cases on the gallery: people, their enrolled faces and the index built from them.

Every change takes the acting principal and records its audit entries itself, so no write
path can skip the audit log. The gallery's own transactions span media files and the index,
so an entry is written right after its change commits (see AuditService.record_many for why
a lost entry is not raised). Entries name ids and which fields changed, never the personal
data itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facebank.auth.principal import Principal
from facebank.errors import VectorEngineUnavailableError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.audit import Action, AuditService, Target, audit_entry
from facebank.services.duplicates import DuplicateCheck
from facebank.services.enrolled import face_created, forget_unused_media
from facebank.services.index_sync import IndexManager, IndexStatus
from facebank.services.negative_reembed import NegativeReembedder
from facebank.services.photos import (
    EnrollableFace,
    EnrollRules,
    FaceChoice,
    FaceSelection,
    Photo,
    new_face_record,
    prepare_photos,
)
from facebank.services.reembed import Reembedder, ReembedReport
from facebank.store.media import MediaStore
from facebank.store.paging import Page
from facebank.store.people import (
    FaceRecord,
    FaceRepository,
    NewFace,
    PeopleRepository,
    PersonFields,
    PersonFilter,
    PersonOrder,
    PersonRecord,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceImage:
    path: Path
    media_type: str


class GalleryService:
    """Enroll, edit and delete people and faces, keeping database, media and index in step.

    Order of work on enroll: embed and check everything first (quality gate, duplicate
    check; no state touched), write media files,
    commit the rows in one transaction, then update the index. A crash after the commit is
    repaired at the next start because the index is checked against the database; media
    files without rows are swept at start. A vector engine that cannot be reached when the
    index is updated (VectorEngineUnavailableError, a 503) undoes the enroll: the rows just
    committed are deleted again, so a failed enroll leaves no face behind (and where even
    that delete fails, the face is in the change log, which every index applies when the
    engine is back).
    """

    def __init__(
        self,
        pipeline: FacePipeline,
        people: PeopleRepository,
        faces: FaceRepository,
        media: MediaStore,
        index: IndexManager,
        audit: AuditService,
        rules: EnrollRules,
        duplicates: DuplicateCheck,
        negatives: NegativeReembedder | None = None,  # labels re-embedded with the faces
    ) -> None:
        self._pipeline = pipeline
        self._people = people
        self._faces = faces
        self._media = media
        self._index = index
        self._audit = audit
        self._rules = rules
        self._duplicates = duplicates
        self._reembedder = Reembedder(pipeline, faces, media, index, negatives)

    # --- changes, each audited --------------------------------------------------------------

    def create_person(
        self,
        actor: Principal,
        person: PersonFields,
        photos: list[Photo],
        choice: FaceSelection = FaceChoice.AUTO,
        allow_duplicate: bool = False,
    ) -> tuple[PersonRecord, list[FaceRecord]]:
        prepared = self._prepare(photos, choice, None, allow_duplicate)
        new_faces = self._store_media(prepared)
        try:
            created, records = self._people.create(person, new_faces)
        except Exception:
            self._forget_media(new_faces)
            raise
        try:
            self._index_faces(records, prepared)
        except VectorEngineUnavailableError:
            self._undo(lambda: self._people.delete(created.id), records)
            raise
        self._audit.record_many(
            [audit_entry(actor, Action.CREATE, Target.PERSON, created.id)]
            + [face_created(actor, face) for face in records]
        )
        return created, records

    def add_faces(
        self,
        actor: Principal,
        person_id: int,
        photos: list[Photo],
        choice: FaceSelection = FaceChoice.AUTO,
        allow_duplicate: bool = False,
    ) -> list[FaceRecord]:
        self._people.get(person_id)  # unknown person: fail before any model work
        prepared = self._prepare(photos, choice, person_id, allow_duplicate)
        new_faces = self._store_media(prepared)
        try:
            records = self._faces.add(person_id, new_faces)
        except Exception:
            self._forget_media(new_faces)
            raise
        try:
            self._index_faces(records, prepared)
        except VectorEngineUnavailableError:
            self._undo(lambda: [self._faces.delete(r.id) for r in records], records)
            raise
        self._audit.record_many([face_created(actor, face) for face in records])
        return records

    def update_person(
        self, actor: Principal, person_id: int, changes: Mapping[str, Any]
    ) -> PersonRecord:
        updated = self._people.update(person_id, changes)
        self._audit.record(
            actor, Action.UPDATE, Target.PERSON, person_id, {"fields": sorted(changes)}
        )
        return updated

    def delete_person(self, actor: Principal, person_id: int) -> int:
        removed = self._people.delete(person_id)
        self._index.remove([face.id for face in removed])
        self._release_media(removed)
        self._audit.record(
            actor, Action.DELETE, Target.PERSON, person_id, {"faces_deleted": len(removed)}
        )
        return len(removed)

    def delete_face(self, actor: Principal, face_id: int) -> FaceRecord:
        removed = self._faces.delete(face_id)
        self._index.remove([removed.id])
        self._release_media([removed])
        self._audit.record(
            actor, Action.DELETE, Target.FACE, face_id, {"person_id": removed.person_id}
        )
        return removed

    def rebuild_index(self, actor: Principal) -> IndexStatus:
        status = self._index.rebuild()
        self._audit.record(actor, Action.REBUILD, Target.INDEX, None, {"size": status.index_size})
        return status

    def reembed(self, actor: Principal) -> ReembedReport:
        """Move faces of other model packs to the running one, from their stored photos."""
        report = self._reembedder.run()
        details = {"reembedded": report.reembedded, "failed": len(report.failed)}
        details["negatives_reembedded"] = report.negatives_reembedded
        self._audit.record(actor, Action.REEMBED, Target.INDEX, None, details)
        return report

    # --- reads ------------------------------------------------------------------------------

    def get_person(self, person_id: int) -> PersonRecord:
        return self._people.get(person_id)

    def search_people(
        self,
        filters: PersonFilter,
        offset: int,
        limit: int,
        order: PersonOrder = PersonOrder(),
    ) -> Page[PersonRecord]:
        return self._people.search(filters, offset, limit, order)

    def list_faces(self, person_id: int) -> list[FaceRecord]:
        self._people.get(person_id)
        return self._faces.list_for_person(person_id)

    def get_face(self, face_id: int) -> FaceRecord:
        return self._faces.get(face_id)

    def face_image(self, face_id: int) -> FaceImage:
        face = self._faces.get(face_id)
        return FaceImage(path=self._media.path(face.media_ref), media_type=face.media_type)

    # --- keeping media and index in step ----------------------------------------------------

    def _prepare(
        self,
        photos: list[Photo],
        choice: FaceSelection,
        person_id: int | None,
        allow_duplicate: bool,
    ) -> list[EnrollableFace]:
        """The photos' faces, each through the quality gate and (unless allowed) the
        duplicate check against people other than `person_id`."""
        prepared = prepare_photos(self._pipeline, photos, choice, self._rules)
        if not allow_duplicate:
            embeddings = [item.face.embedding for item in prepared]
            self._duplicates.check(self._index, embeddings, person_id)
        return prepared

    def _store_media(self, prepared: list[EnrollableFace]) -> list[NewFace]:
        new_faces = []
        for item in prepared:
            ref = self._media.put(item.photo.data, item.image.format)
            new_faces.append(new_face_record(item.face, item.image, ref, self._pipeline.model_id))
        return new_faces

    def _index_faces(self, records: list[FaceRecord], prepared: list[EnrollableFace]) -> None:
        if not records:
            return
        vectors = np.stack([item.face.embedding for item in prepared]).astype(np.float32)
        self._index.add([r.id for r in records], [r.person_id for r in records], vectors)

    def _undo(self, delete: Callable[[], object], records: list[FaceRecord]) -> None:
        """Delete what an enroll committed when its faces could not be indexed."""
        try:
            delete()
        except Exception as exc:  # the change log brings the faces into the index later
            log.warning("undoing an enroll the vector engine refused failed: %s", exc)
            return
        self._release_media(records)
        # A face the engine took after all (its answer lost on the way) goes too; while the
        # engine is still away, the change log's removal reaches it later.
        with suppress(VectorEngineUnavailableError):
            self._index.remove([r.id for r in records])

    def _forget_media(self, new_faces: list[NewFace]) -> None:
        forget_unused_media(self._faces, self._media, (face.media_ref for face in new_faces))

    def _release_media(self, removed: list[FaceRecord]) -> None:
        forget_unused_media(self._faces, self._media, (face.media_ref for face in removed))

"""Gallery changes that leave an audit trail: the routes call these with the acting principal.

The gallery's own transactions span media files and the index, so the entry is written right
after the change commits (see AuditService.record_many for why a lost entry is not raised).
Entries name ids and which fields changed, never the personal data itself.
"""

from __future__ import annotations

from typing import Any

from facebank.auth.principal import Principal
from facebank.services.audit import Action, AuditService, Target, audit_entry
from facebank.services.gallery import GalleryService
from facebank.services.index_sync import IndexManager, IndexStatus
from facebank.services.photos import FaceChoice, Photo
from facebank.services.reembed import Reembedder, ReembedReport
from facebank.store.audit import NewAuditEntry
from facebank.store.people import FaceRecord, PersonFields, PersonRecord


class AuditedGallery:
    def __init__(
        self,
        gallery: GalleryService,
        index: IndexManager,
        reembedder: Reembedder,
        audit: AuditService,
    ) -> None:
        self._gallery = gallery
        self._index = index
        self._reembedder = reembedder
        self._audit = audit

    def create_person(
        self,
        actor: Principal,
        fields: PersonFields,
        photos: list[Photo],
        choice: FaceChoice = FaceChoice.AUTO,
    ) -> tuple[PersonRecord, list[FaceRecord]]:
        person, faces = self._gallery.create_person(fields, photos, choice)
        self._audit.record_many(
            [audit_entry(actor, Action.CREATE, Target.PERSON, person.id)]
            + [_face_created(actor, face) for face in faces]
        )
        return person, faces

    def add_faces(
        self,
        actor: Principal,
        person_id: int,
        photos: list[Photo],
        choice: FaceChoice = FaceChoice.AUTO,
    ) -> list[FaceRecord]:
        faces = self._gallery.add_faces(person_id, photos, choice)
        self._audit.record_many([_face_created(actor, face) for face in faces])
        return faces

    def update_person(
        self, actor: Principal, person_id: int, changes: dict[str, Any]
    ) -> PersonRecord:
        updated = self._gallery.update_person(person_id, changes)
        self._audit.record(
            actor, Action.UPDATE, Target.PERSON, person_id, {"fields": sorted(changes)}
        )
        return updated

    def delete_person(self, actor: Principal, person_id: int) -> int:
        removed = self._gallery.delete_person(person_id)
        self._audit.record(
            actor, Action.DELETE, Target.PERSON, person_id, {"faces_deleted": removed}
        )
        return removed

    def delete_face(self, actor: Principal, face_id: int) -> FaceRecord:
        removed = self._gallery.delete_face(face_id)
        self._audit.record(
            actor, Action.DELETE, Target.FACE, face_id, {"person_id": removed.person_id}
        )
        return removed

    def rebuild_index(self, actor: Principal) -> IndexStatus:
        status = self._index.rebuild()
        self._audit.record(actor, Action.REBUILD, Target.INDEX, None, {"size": status.index_size})
        return status

    def reembed(self, actor: Principal) -> ReembedReport:
        report = self._reembedder.run()
        self._audit.record(
            actor,
            Action.REEMBED,
            Target.INDEX,
            None,
            {"reembedded": report.reembedded, "failed": len(report.failed)},
        )
        return report


def _face_created(actor: Principal, face: FaceRecord) -> NewAuditEntry:
    return audit_entry(actor, Action.CREATE, Target.FACE, face.id, {"person_id": face.person_id})

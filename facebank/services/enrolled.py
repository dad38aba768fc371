"""What the gallery's and the importer's face writes share: each face's audit entry, and
forgetting the photos of faces that were not kept."""

from __future__ import annotations

from collections.abc import Iterable

from facebank.auth.principal import Principal
from facebank.services.audit import Action, Target, audit_entry
from facebank.store.audit import NewAuditEntry
from facebank.store.media import MediaStore
from facebank.store.people import FaceRecord, FaceRepository


def face_created(actor: Principal, face: FaceRecord) -> NewAuditEntry:
    return audit_entry(actor, Action.CREATE, Target.FACE, face.id, {"person_id": face.person_id})


def forget_unused_media(faces: FaceRepository, media: MediaStore, refs: Iterable[str]) -> None:
    """Delete those of these photos no face points at (photos can be shared by faces);
    one read for all of them."""
    wanted = set(refs)
    for ref in wanted - faces.media_refs_in_use(wanted):
        media.delete(ref)

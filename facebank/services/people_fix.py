"""Fixing people that were wrongly joined or split: merge two into one, split faces off.

The store moves faces and history in one transaction and logs the move; this brings the
process's own index in step right after the commit (other workers follow the change log)
and audits both changes. Photos stay where they are: the faces keep their media.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from facebank.auth.principal import Principal
from facebank.services.audit import Action, AuditService, Target, audit_entry
from facebank.services.index_sync import IndexManager
from facebank.store.people import FaceRecord, FaceRepository, PersonFields, PersonRecord
from facebank.store.people_merge import MergeResult, PeopleFixRepository

log = logging.getLogger(__name__)


class PeopleFixService:
    def __init__(
        self,
        repo: PeopleFixRepository,
        faces: FaceRepository,
        index: IndexManager,
        audit: AuditService,
    ) -> None:
        self._repo = repo
        self._faces = faces
        self._index = index
        self._audit = audit

    def merge(self, actor: Principal, target_id: int, source_id: int) -> PersonRecord:
        """Fold `source_id` into `target_id`; the source person is gone afterwards."""
        result = self._repo.merge(target_id, source_id)
        self._sync_index()
        details = _merge_details(result)
        self._audit.record_many(
            [
                audit_entry(actor, Action.MERGE, Target.PERSON, target_id,
                            {"from_person_id": source_id, **details}),
                # On the source too, so its own audit trail says where it went.
                audit_entry(actor, Action.MERGE, Target.PERSON, source_id,
                            {"into_person_id": target_id, **details}),
            ]
        )  # fmt: skip
        return result.person

    def split(
        self, actor: Principal, person_id: int, face_ids: Sequence[int], fields: PersonFields
    ) -> tuple[PersonRecord, list[FaceRecord]]:
        """Move the chosen faces to a new person; returns it with its faces."""
        result = self._repo.split(person_id, face_ids, fields)
        self._sync_index()
        new_id, moved = result.person.id, len(result.face_ids)
        self._audit.record_many(
            [
                audit_entry(actor, Action.SPLIT, Target.PERSON, person_id,
                            {"new_person_id": new_id, "faces_moved": moved}),
                audit_entry(actor, Action.CREATE, Target.PERSON, new_id,
                            {"split_from_person_id": person_id, "faces_moved": moved}),
            ]
        )  # fmt: skip
        return result.person, self._faces.list_for_person(new_id)

    def _sync_index(self) -> None:
        # The move is committed with its change-log entry; following the log re-reads the
        # touched faces and re-files them under their new person (IndexManager._apply_faces).
        try:
            self._index.follow()
        except Exception as exc:  # committed: the follow loop, next write or start catches up
            log.warning("index catch-up after a people fix failed: %s", exc)


def _merge_details(result: MergeResult) -> dict[str, object]:
    return {
        "faces_moved": len(result.face_ids),
        "session_events": result.session_events,
        "session_people": result.session_people,
        "unknown_clusters": result.unknown_clusters,
        "negative_labels": result.negative_labels,
        "filled_fields": list(result.filled_fields),
    }

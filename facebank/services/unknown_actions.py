"""A reviewer's actions on unknown clusters (issue 12): name one as a new person, add one to
an existing person, dismiss one, delete one face. Each is audited.

Naming and adding enroll the cluster's best faces (by quality, at most `max_faces`) through
the gallery's own use cases, one crop at a time, so the enrollment quality gate and the
duplicate check apply as to any photo; a face they refuse is reported, and only a cluster
none of whose faces enrolls fails (with the first face's own error). Afterwards the
cluster's unknown faces are deleted (rows, vectors, crops nothing else uses) and its row
stays as history with its status and the person.
"""

from __future__ import annotations

from dataclasses import dataclass

from facebank.auth.principal import Principal
from facebank.errors import (
    DuplicateFaceError,
    FacebankError,
    LowQualityError,
    MultipleFacesError,
    NoFaceError,
)
from facebank.services.audit import Action, AuditService, Target
from facebank.services.gallery import GalleryService
from facebank.services.photos import FaceAt, Photo
from facebank.services.unknowns import UnknownService
from facebank.store.people import FaceRecord, PersonFields, PersonRecord
from facebank.store.unknown_records import ClusterStatus, UnknownClusterRecord, UnknownFaceRecord
from facebank.store.unknowns import UnknownRepository

# What enrollment may refuse of one face without failing the whole action.
FACE_REFUSALS = (LowQualityError, NoFaceError, MultipleFacesError, DuplicateFaceError)
DEFAULT_MAX_FACES = 5


@dataclass(frozen=True)
class Refusal:
    unknown_face_id: int
    code: str
    message: str


@dataclass(frozen=True)
class Resolution:
    cluster: UnknownClusterRecord
    person: PersonRecord | None
    enrolled: list[FaceRecord]
    refused: list[Refusal]
    faces_deleted: int


class UnknownActions:
    def __init__(
        self,
        repo: UnknownRepository,
        unknowns: UnknownService,
        gallery: GalleryService,
        audit: AuditService,
        max_faces: int = DEFAULT_MAX_FACES,
    ) -> None:
        self._repo = repo
        self._unknowns = unknowns
        self._gallery = gallery
        self._audit = audit
        self._max_faces = max_faces

    def name(self, actor: Principal, cluster_id: int, person: PersonFields) -> Resolution:
        self._repo.require_open(cluster_id)
        refused: list[Refusal] = []
        created: PersonRecord | None = None
        enrolled: list[FaceRecord] = []
        first_error: FacebankError | None = None
        for face in self._best(cluster_id):
            try:
                if created is None:
                    created, faces = self._gallery.create_person(
                        actor, person, [self._photo(face)], FaceAt(_box(face))
                    )
                else:
                    faces = self._add(actor, created.id, face)
            except FACE_REFUSALS as exc:
                first_error = first_error or exc
                refused.append(Refusal(face.id, exc.code, exc.message))
                continue
            enrolled.extend(faces)
        if created is None:
            raise _none_enrolled(first_error, refused, cluster_id)
        return self._close(actor, cluster_id, ClusterStatus.NAMED, created, enrolled, refused)

    def add(self, actor: Principal, cluster_id: int, person_id: int) -> Resolution:
        person = self._gallery.get_person(person_id)  # 404 before anything else
        self._repo.require_open(cluster_id)
        refused: list[Refusal] = []
        enrolled: list[FaceRecord] = []
        first_error: FacebankError | None = None
        for face in self._best(cluster_id):
            try:
                enrolled.extend(self._add(actor, person_id, face))
            except FACE_REFUSALS as exc:
                first_error = first_error or exc
                refused.append(Refusal(face.id, exc.code, exc.message))
        if not enrolled:
            raise _none_enrolled(first_error, refused, cluster_id)
        person = self._gallery.get_person(person_id)  # its face count now
        return self._close(actor, cluster_id, ClusterStatus.ADDED, person, enrolled, refused)

    def dismiss(self, actor: Principal, cluster_id: int) -> Resolution:
        return self._close(actor, cluster_id, ClusterStatus.DISMISSED, None, [], [])

    def delete_face(self, actor: Principal, face_id: int) -> UnknownFaceRecord:
        removed = self._repo.delete_face(face_id)
        self._unknowns.forget([removed])
        details = {"cluster_id": removed.cluster_id}
        self._audit.record(actor, Action.DELETE, Target.UNKNOWN_FACE, face_id, details)
        return removed

    def _best(self, cluster_id: int) -> list[UnknownFaceRecord]:
        return self._repo.cluster_faces(cluster_id)[: self._max_faces]

    def _photo(self, face: UnknownFaceRecord) -> Photo:
        return Photo(self._unknowns.enrollable_photo(face), f"unknown-{face.id}.png")

    def _add(self, actor: Principal, person_id: int, face: UnknownFaceRecord) -> list[FaceRecord]:
        return self._gallery.add_faces(actor, person_id, [self._photo(face)], FaceAt(_box(face)))

    def _close(
        self,
        actor: Principal,
        cluster_id: int,
        status: ClusterStatus,
        person: PersonRecord | None,
        enrolled: list[FaceRecord],
        refused: list[Refusal],
    ) -> Resolution:
        person_id = None if person is None else person.id
        cluster, removed = self._repo.close_cluster(cluster_id, status, person_id)
        self._unknowns.forget(removed)
        action = {
            ClusterStatus.NAMED: Action.NAME,
            ClusterStatus.ADDED: Action.ADD,
            ClusterStatus.DISMISSED: Action.DISMISS,
        }[status]
        details = {
            "person_id": person_id,
            "faces_enrolled": len(enrolled),
            "faces_refused": len(refused),
            "faces_deleted": len(removed),
        }
        self._audit.record(actor, action, Target.UNKNOWN_CLUSTER, cluster_id, details)
        return Resolution(cluster, person, enrolled, refused, len(removed))


def _box(face: UnknownFaceRecord) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = face.box
    return x1, y1, x2, y2


def _none_enrolled(
    first: FacebankError | None, refused: list[Refusal], cluster_id: int
) -> FacebankError:
    """The first face's own error (422 low quality, 409 duplicate, ...), naming them all."""
    if first is None:  # a cluster without faces cannot be open; say so plainly anyway
        return NoFaceError(f"unknown cluster {cluster_id} has no faces", cluster_id=cluster_id)
    first.details["cluster_id"] = cluster_id
    first.details["refused"] = [r.__dict__ for r in refused]
    first.message = f"none of the cluster's faces could be enrolled: {first.message}"
    first.args = (first.message,)
    return first

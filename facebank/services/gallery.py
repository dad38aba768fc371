"""Use cases on the gallery: people and their enrolled faces."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facebank.pipeline.pipeline import FacePipeline
from facebank.services.index_sync import IndexManager
from facebank.services.photos import (
    EnrollableFace,
    FaceChoice,
    Photo,
    new_face_record,
    prepare_photos,
)
from facebank.store.media import MediaStore
from facebank.store.paging import Page
from facebank.store.people import (
    FaceRecord,
    FaceRepository,
    NewFace,
    PeopleRepository,
    PersonFields,
    PersonFilter,
    PersonRecord,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceImage:
    path: Path
    media_type: str


class GalleryService:
    """Enroll, edit and delete people and faces, keeping database, media and index in step.

    Order of work on enroll: embed everything first (no state touched), write media files,
    commit the rows in one transaction, then update the index. A crash after the commit is
    repaired at the next start because the index is checked against the database; media
    files without rows are swept at start.
    """

    def __init__(
        self,
        pipeline: FacePipeline,
        people: PeopleRepository,
        faces: FaceRepository,
        media: MediaStore,
        index: IndexManager,
        dominant_face_ratio: float,
    ) -> None:
        self._pipeline = pipeline
        self._people = people
        self._faces = faces
        self._media = media
        self._index = index
        self._dominant_ratio = dominant_face_ratio

    def create_person(
        self, fields: PersonFields, photos: list[Photo], choice: FaceChoice = FaceChoice.AUTO
    ) -> tuple[PersonRecord, list[FaceRecord]]:
        prepared = prepare_photos(self._pipeline, photos, choice, self._dominant_ratio)
        new_faces = self._store_media(prepared)
        try:
            person, records = self._people.create(fields, new_faces)
        except Exception:
            self._forget_media(new_faces)
            raise
        self._index_faces(records, prepared)
        return person, records

    def add_faces(
        self, person_id: int, photos: list[Photo], choice: FaceChoice = FaceChoice.AUTO
    ) -> list[FaceRecord]:
        self._people.get(person_id)  # unknown person: fail before any model work
        prepared = prepare_photos(self._pipeline, photos, choice, self._dominant_ratio)
        new_faces = self._store_media(prepared)
        try:
            records = self._faces.add(person_id, new_faces)
        except Exception:
            self._forget_media(new_faces)
            raise
        self._index_faces(records, prepared)
        return records

    def get_person(self, person_id: int) -> PersonRecord:
        return self._people.get(person_id)

    def search_people(self, filters: PersonFilter, offset: int, limit: int) -> Page[PersonRecord]:
        return self._people.search(filters, offset, limit)

    def update_person(self, person_id: int, changes: dict[str, Any]) -> PersonRecord:
        return self._people.update(person_id, changes)

    def delete_person(self, person_id: int) -> int:
        removed = self._people.delete(person_id)
        self._index.remove([face.id for face in removed])
        self._release_media(removed)
        return len(removed)

    def list_faces(self, person_id: int) -> list[FaceRecord]:
        self._people.get(person_id)
        return self._faces.list_for_person(person_id)

    def get_face(self, face_id: int) -> FaceRecord:
        return self._faces.get(face_id)

    def delete_face(self, face_id: int) -> FaceRecord:
        removed = self._faces.delete(face_id)
        self._index.remove([removed.id])
        self._release_media([removed])
        return removed

    def face_image(self, face_id: int) -> FaceImage:
        face = self._faces.get(face_id)
        return FaceImage(path=self._media.path(face.media_ref), media_type=face.media_type)

    def people_by_id(self, person_ids: set[int]) -> dict[int, PersonRecord]:
        return self._people.get_many(person_ids)

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

    def _forget_media(self, new_faces: list[NewFace]) -> None:
        for face in new_faces:
            if not self._faces.media_ref_in_use(face.media_ref):
                self._media.delete(face.media_ref)

    def _release_media(self, removed: list[FaceRecord]) -> None:
        for ref in {face.media_ref for face in removed}:
            if not self._faces.media_ref_in_use(ref):
                self._media.delete(ref)

"""Marking a face "not this person": add (from a photo or a kept unknown face), list, delete.

Each label stores a crop around the face as PNG (lossless, so re-decoding it gives the very
pixels the face was embedded from) with the face's box and landmarks in that crop: the label
owns its own file, whatever happens to the uploaded photo or the unknown face it came from,
and is re-embedded from it when the model pack changes (services/negative_reembed.py).
Changes are audited and applied to this worker's searches at once (NegativeCache.refresh).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.auth.principal import Principal
from facebank.errors import ImageInvalidError, ModelMismatchError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.audit import Action, AuditService, Target
from facebank.services.negative_search import NegativeCache
from facebank.services.photos import FaceSelection, Photo, choose_detection
from facebank.sessions.unknown_sink import crop_around
from facebank.store.media import MediaStore
from facebank.store.negatives import FaceGeometry, NegativeRecord, NegativeRepository, NewNegative
from facebank.store.people import FaceRepository, PeopleRepository
from facebank.store.vectors import encode_embedding

CROP_TYPE = "png"


@dataclass(frozen=True)
class NegativeImage:
    path: Path
    media_type: str


class NegativeService:
    def __init__(
        self,
        pipeline: FacePipeline,
        people: PeopleRepository,
        repo: NegativeRepository,
        faces: FaceRepository,
        media: MediaStore,
        audit: AuditService,
        cache: NegativeCache,
        dominant_ratio: float,
    ) -> None:
        self._pipeline = pipeline
        self._people = people
        self._repo = repo
        self._faces = faces
        self._media = media
        self._audit = audit
        self._cache = cache
        self._dominant_ratio = dominant_ratio

    def add_from_photo(
        self, actor: Principal, person_id: int, photo: Photo, choice: FaceSelection
    ) -> NegativeRecord:
        """The photo's face (chosen as enrollment chooses it) is not `person_id`."""
        self._people.get(person_id)  # unknown person: fail before any model work
        image = self._pipeline.decode(photo.data)
        detection = choose_detection(self._pipeline.detect(image), choice, self._dominant_ratio)
        image = self._pipeline.crop_source(image, [detection])  # the crop keeps small faces sharp
        face = self._pipeline.embed(image, [detection])[0]
        crop, moved = crop_around(image, face)
        rounded = moved.detection.rounded()
        geometry = FaceGeometry(
            self._pipeline.model_id,
            encode_embedding(face.embedding),
            int(face.embedding.size),
            rounded.box,
            rounded.landmarks,
        )
        return self._store(actor, person_id, crop.pixels, geometry, None)

    def add_from_unknown(
        self, actor: Principal, person_id: int, unknown_face_id: int
    ) -> NegativeRecord:
        """A kept unknown face is not `person_id`: its crop, landmarks and embedding."""
        self._people.get(person_id)
        unknown = self._repo.unknown_face(unknown_face_id)
        if unknown.face.model_id != self._pipeline.model_id:
            raise ModelMismatchError(
                f"unknown face {unknown_face_id} was embedded by model {unknown.face.model_id}, "
                f"not the running {self._pipeline.model_id}",
                unknown_face_id=unknown_face_id,
                model_id=unknown.face.model_id,
            )
        crop = self._pipeline.decode(self._media.read(unknown.media_ref))
        return self._store(actor, person_id, crop.pixels, unknown.face, unknown.id)

    def list(self, person_id: int) -> list[NegativeRecord]:
        return self._repo.list_for_person(person_id)

    def get(self, person_id: int, negative_id: int) -> NegativeRecord:
        return self._repo.get(person_id, negative_id)

    def image(self, person_id: int, negative_id: int) -> NegativeImage:
        record = self._repo.get(person_id, negative_id)
        return NegativeImage(self._media.path(record.media_ref), record.media_type)

    def delete(self, actor: Principal, person_id: int, negative_id: int) -> NegativeRecord:
        removed = self._repo.delete(person_id, negative_id)
        self._cache.refresh()
        self._release(removed.media_ref)
        self._audit.record(
            actor, Action.DELETE, Target.NEGATIVE, removed.id, {"person_id": person_id}
        )
        return removed

    def media_refs(self) -> set[str]:
        """Every crop a label keeps: the start-up media sweep must leave them."""
        return self._repo.all_media_refs()

    def _store(
        self,
        actor: Principal,
        person_id: int,
        pixels: NDArray[np.uint8],
        face: FaceGeometry,
        unknown_face_id: int | None,
    ) -> NegativeRecord:
        ref = self._media.put(_png(pixels), CROP_TYPE)
        new = NewNegative(face, ref, CROP_TYPE, actor.name, unknown_face_id)
        try:
            record = self._repo.add(person_id, new)
        except Exception:
            self._release(ref)
            raise
        self._cache.refresh()
        source = "photo" if unknown_face_id is None else "unknown_face"
        details: dict[str, object] = {"person_id": person_id, "source": source}
        if unknown_face_id is not None:
            details["unknown_face_id"] = unknown_face_id
        self._audit.record(actor, Action.CREATE, Target.NEGATIVE, record.id, details)
        return record

    def _release(self, ref: str) -> None:
        """Delete the crop unless another label (the same face marked for two people) or,
        by a content collision, a face still points at it."""
        if not self._repo.media_ref_in_use(ref) and not self._faces.media_ref_in_use(ref):
            self._media.delete(ref)


def _png(pixels: NDArray[np.uint8]) -> bytes:
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise ImageInvalidError("the face crop could not be encoded")
    return bytes(encoded.tobytes())

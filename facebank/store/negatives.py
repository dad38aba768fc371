"""Negative labels ("not this person"): faces that must no longer match one person.

Each label keeps the face's crop (in the media store) with its box and landmarks in that
crop, so it is re-embedded when the model pack changes, as the gallery's faces are. The
matcher reads every label of the running model at once (`vectors`) and rereads them only
when the cheap `version` says something changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facebank.errors import NotFoundError
from facebank.store.limits import ACTOR_NAME_MAX, MEDIA_TYPE_MAX, MODEL_ID_MAX
from facebank.store.tables import NegativeLabel, Person, UnknownFace
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import check_media_ref, check_text_key, is_storable_id
from facebank.store.vectors import decode_embeddings


@dataclass(frozen=True)
class NegativeRecord:
    id: int
    person_id: int
    model_id: str
    dim: int
    box: list[float]  # x1, y1, x2, y2 in the stored crop's pixels
    landmarks: list[list[float]]  # five [x, y] points in the stored crop's pixels
    media_ref: str
    media_type: str
    unknown_face_id: int | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class FaceGeometry:
    """Where the face lies in its stored crop, and its embedding for one model."""

    model_id: str
    embedding: bytes  # little-endian float32 (store.vectors.encode_embedding)
    dim: int
    box: list[float]
    landmarks: list[list[float]]


@dataclass(frozen=True)
class NewNegative:
    face: FaceGeometry
    media_ref: str
    media_type: str
    created_by: str
    unknown_face_id: int | None = None

    def __post_init__(self) -> None:
        check_text_key("model_id", self.face.model_id, MODEL_ID_MAX)
        check_text_key("media_type", self.media_type, MEDIA_TYPE_MAX)
        check_media_ref(self.media_ref)


@dataclass(frozen=True)
class NegativeVectors:
    """Every label of one model: aligned person ids (n,) and unit vectors (n, dim)."""

    person_ids: NDArray[np.int64]
    vectors: NDArray[np.float32]


@dataclass(frozen=True)
class UnknownCrop:
    """What a label takes from a kept unknown face (rows of the unknowns' own table)."""

    id: int
    face: FaceGeometry
    media_ref: str
    media_type: str


# (count, highest id, newest created_at, sum of person ids) of one model's labels: any add
# or delete changes it (an add raises the newest time even where SQLite reuses a deleted
# highest id), and so does a merge of people moving labels to another person.
NegativesVersion = tuple[int, int, datetime | None, int]


def _record(row: NegativeLabel) -> NegativeRecord:
    return NegativeRecord(
        id=row.id,
        person_id=row.person_id,
        model_id=row.model_id,
        dim=row.dim,
        box=list(row.box),
        landmarks=[list(p) for p in row.landmarks],
        media_ref=row.media_ref,
        media_type=row.media_type,
        unknown_face_id=row.unknown_face_id,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _lock_person(session: Session, person_id: int) -> None:
    """Fail with 404 for an unknown person; the row lock keeps a concurrent delete from
    turning the insert into a foreign-key error."""
    row = (
        session.get(Person, person_id, with_for_update=True) if is_storable_id(person_id) else None
    )
    if row is None:
        raise NotFoundError(f"person {person_id} not found", person_id=person_id)


def _get(session: Session, person_id: int, negative_id: int, lock: bool = False) -> NegativeLabel:
    row = (
        session.get(NegativeLabel, negative_id, with_for_update=lock)
        if is_storable_id(negative_id)
        else None
    )
    if row is None or row.person_id != person_id:
        raise NotFoundError(
            f"negative label {negative_id} of person {person_id} not found",
            person_id=person_id,
            negative_id=negative_id,
        )
    return row


class NegativeRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def add(self, person_id: int, new: NewNegative) -> NegativeRecord:
        def work(session: Session) -> NegativeRecord:
            _lock_person(session, person_id)
            row = NegativeLabel(
                person_id=person_id,
                model_id=new.face.model_id,
                embedding=new.face.embedding,
                dim=new.face.dim,
                box=list(new.face.box),
                landmarks=[list(p) for p in new.face.landmarks],
                media_ref=new.media_ref,
                media_type=new.media_type,
                unknown_face_id=new.unknown_face_id,
                created_by=new.created_by[:ACTOR_NAME_MAX],
            )
            session.add(row)
            session.flush()
            return _record(row)

        return run_write(self._sessions, work)

    def list_for_person(self, person_id: int) -> list[NegativeRecord]:
        def work(session: Session) -> list[NegativeRecord]:
            if not is_storable_id(person_id) or session.get(Person, person_id) is None:
                raise NotFoundError(f"person {person_id} not found", person_id=person_id)
            query = select(NegativeLabel).where(NegativeLabel.person_id == person_id)
            return [_record(r) for r in session.scalars(query.order_by(NegativeLabel.id))]

        return run_read(self._sessions, work)

    def get(self, person_id: int, negative_id: int) -> NegativeRecord:
        return run_read(self._sessions, lambda s: _record(_get(s, person_id, negative_id)))

    def delete(self, person_id: int, negative_id: int) -> NegativeRecord:
        def work(session: Session) -> NegativeRecord:
            row = _get(session, person_id, negative_id, lock=True)
            record = _record(row)
            session.delete(row)
            return record

        return run_write(self._sessions, work)

    # --- for the matcher ----------------------------------------------------------------

    def version(self, model_id: str) -> NegativesVersion:
        query = select(
            func.count(NegativeLabel.id),
            func.max(NegativeLabel.id),
            func.max(NegativeLabel.created_at),
            func.sum(NegativeLabel.person_id),
        ).where(NegativeLabel.model_id == model_id)

        def work(session: Session) -> NegativesVersion:
            count, top, newest, people = session.execute(query).one()
            return int(count), int(top or 0), newest, int(people or 0)

        return run_read(self._sessions, work)

    def vectors(self, model_id: str) -> NegativeVectors:
        query = (
            select(NegativeLabel.person_id, NegativeLabel.embedding, NegativeLabel.dim)
            .where(NegativeLabel.model_id == model_id)
            .order_by(NegativeLabel.id)
        )

        def work(session: Session) -> NegativeVectors:
            rows = session.execute(query).all()
            people = np.array([r[0] for r in rows], dtype=np.int64)
            vectors = decode_embeddings([r[1] for r in rows], [r[2] for r in rows])
            return NegativeVectors(people, vectors)

        return run_read(self._sessions, work)

    # --- re-embedding -------------------------------------------------------------------

    def other_model(self, model_id: str, limit: int) -> list[NegativeRecord]:
        """Labels embedded by another model pack, oldest first."""
        query = (
            select(NegativeLabel)
            .where(NegativeLabel.model_id != model_id)
            .order_by(NegativeLabel.id)
            .limit(limit)
        )
        return run_read(self._sessions, lambda s: [_record(r) for r in s.scalars(query)])

    def replace_embedding(self, negative_id: int, face: FaceGeometry) -> None:
        def work(session: Session) -> None:
            row = session.get(NegativeLabel, negative_id, with_for_update=True)
            if row is None:  # deleted meanwhile: nothing to move
                return
            row.model_id, row.embedding, row.dim = face.model_id, face.embedding, face.dim
            row.box, row.landmarks = list(face.box), [list(p) for p in face.landmarks]

        run_write(self._sessions, work)

    # --- photos ---------------------------------------------------------------------------

    def media_ref_in_use(self, ref: str) -> bool:
        check_media_ref(ref)
        query = select(NegativeLabel.id).where(NegativeLabel.media_ref == ref).limit(1)
        return run_read(self._sessions, lambda s: s.scalar(query) is not None)

    def all_media_refs(self) -> set[str]:
        query = select(NegativeLabel.media_ref).distinct()
        return run_read(self._sessions, lambda s: set(s.scalars(query)))

    def unknown_face(self, unknown_face_id: int) -> UnknownCrop:
        """A kept unknown face's crop, geometry and embedding (read-only here)."""

        def work(session: Session) -> UnknownCrop:
            row = (
                session.get(UnknownFace, unknown_face_id)
                if is_storable_id(unknown_face_id)
                else None
            )
            if row is None:
                raise NotFoundError(
                    f"unknown face {unknown_face_id} not found", unknown_face_id=unknown_face_id
                )
            face = FaceGeometry(
                row.model_id,
                row.embedding,
                row.dim,
                list(row.box),
                [list(p) for p in row.landmarks],
            )
            return UnknownCrop(row.id, face, row.media_ref, row.media_type)

        return run_read(self._sessions, work)

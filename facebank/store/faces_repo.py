"""Faces: add/remove for a person, and the embedding reads the vector index is built from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Row, Select, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import NotFoundError, ValidationFailedError
from facebank.store.coltypes import utcnow
from facebank.store.mapping import face_record, insert_faces
from facebank.store.records import FaceRecord, NewFace
from facebank.store.tables import Face, Person
from facebank.store.tx import IN_CHUNK, SessionFactory, run_read, run_write
from facebank.store.validation import check_media_ref, is_storable_id
from facebank.store.vectors import decode_embeddings

# (face ids int64 (n,), person ids int64 (n,), vectors float32 (n, dim))
EmbeddingBatch = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]
EmbeddingRow = Row[int, int, bytes, int]  # id, person_id, embedding, dim


class FaceRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def add(self, person_id: int, faces: Sequence[NewFace]) -> list[FaceRecord]:
        """Add faces to an existing person in one transaction (all or none)."""

        def work(session: Session) -> list[FaceRecord]:
            # Locked so a concurrent PeopleRepository.delete cannot miss these faces.
            person = _locked_person(session, person_id)
            now = utcnow()
            stored = insert_faces(session, person.id, faces, now)
            person.updated_at = now
            return stored

        try:
            return run_write(self._sessions, work)
        except IntegrityError as exc:
            if "person_id" in str(exc.orig) or "foreign key" in str(exc.orig).lower():
                raise NotFoundError(f"person {person_id} not found", person_id=person_id) from exc
            raise

    def get(self, face_id: int) -> FaceRecord:
        def work(session: Session) -> FaceRecord:
            return face_record(_get_face(session, face_id))

        return run_read(self._sessions, work)

    def list_for_person(self, person_id: int) -> list[FaceRecord]:
        def work(session: Session) -> list[FaceRecord]:
            _require_person(session, person_id)
            query = select(Face).where(Face.person_id == person_id).order_by(Face.id)
            return [face_record(row) for row in session.scalars(query)]

        return run_read(self._sessions, work)

    def delete(self, face_id: int) -> FaceRecord:
        def work(session: Session) -> FaceRecord:
            # Lock order person -> faces, as everywhere else, so this cannot deadlock with a
            # concurrent delete of the whole person.
            person_id = _get_face(session, face_id).person_id
            person = session.get(Person, person_id, with_for_update=True)
            row = _get_face(session, face_id, lock=True)
            record = face_record(row)
            session.execute(delete(Face).where(Face.id == face_id))
            if person is not None:
                person.updated_at = utcnow()
            return record

        return run_write(self._sessions, work)

    def other_model_faces(self, model_id: str, limit: int = 100) -> list[FaceRecord]:
        """Faces embedded with another model pack than `model_id`, oldest first."""

        def work(session: Session) -> list[FaceRecord]:
            query = select(Face).where(Face.model_id != model_id).order_by(Face.id).limit(limit)
            return [face_record(row) for row in session.scalars(query)]

        return run_read(self._sessions, work)

    def replace_embedding(self, face_id: int, face: NewFace) -> FaceRecord:
        """Store a re-embedding of the same photo (new model, geometry and quality)."""

        def work(session: Session) -> FaceRecord:
            row = _get_face(session, face_id, lock=True)
            if row.media_ref != face.media_ref:
                raise ValidationFailedError("a re-embedding must come from the same photo")
            row.model_id = face.model_id
            row.embedding = face.embedding
            row.dim = face.dim
            row.box = list(face.box)
            row.landmarks = [list(p) for p in face.landmarks]
            row.det_score = face.det_score
            row.quality = dict(face.quality)
            session.flush()
            return face_record(row)

        return run_write(self._sessions, work)

    def embeddings_for_person(
        self, person_id: int, model_id: str
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The person's faces for one model: ids (n,) and vectors (n, dim), in id order."""

        def work(session: Session) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
            _require_person(session, person_id)
            query = _embedding_query().where(Face.person_id == person_id, Face.model_id == model_id)
            ids, _, vectors = _batch(session.execute(query.order_by(Face.id)).all())
            return ids, vectors

        return run_read(self._sessions, work)

    def iter_embeddings(self, model_id: str, batch: int = 5000) -> Iterator[EmbeddingBatch]:
        """Every face of a model, streamed in id order, `batch` rows at a time.

        Keyset pagination (id > last) in a fresh short transaction per batch: no transaction
        stays open while the caller works, and later batches are as fast as the first.
        """
        if batch <= 0:
            raise ValidationFailedError("batch must be positive")
        last_id = 0
        while True:

            def work(session: Session, after: int = last_id) -> list[EmbeddingRow]:
                query = (
                    _embedding_query()
                    .where(Face.model_id == model_id, Face.id > after)
                    .order_by(Face.id)
                    .limit(batch)
                )
                return list(session.execute(query).all())

            rows = run_read(self._sessions, work)
            if not rows:
                return
            yield _batch(rows)
            if len(rows) < batch:
                return
            last_id = rows[-1][0]

    def fetch_embeddings(self, face_ids: Iterable[int]) -> EmbeddingBatch:
        """The given faces (any model), in id order; ids that do not exist are left out."""
        wanted = sorted({int(i) for i in face_ids if is_storable_id(int(i))})

        def work(session: Session) -> list[EmbeddingRow]:
            rows: list[EmbeddingRow] = []
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                query = _embedding_query().where(Face.id.in_(chunk)).order_by(Face.id)
                rows.extend(session.execute(query).all())
            return rows

        return _batch(run_read(self._sessions, work))

    def face_ids(self, model_id: str) -> NDArray[np.int64]:
        """Sorted ids of every face of a model (for checking the index against the database)."""

        def work(session: Session) -> NDArray[np.int64]:
            query = select(Face.id).where(Face.model_id == model_id).order_by(Face.id)
            return np.fromiter(session.scalars(query), dtype=np.int64)

        return run_read(self._sessions, work)

    def id_summary(self, model_id: str) -> tuple[int, int]:
        """(count, sum) of the face ids of a model: a cheap first look for a changed gallery.
        New ids are above every existing one, so adds and deletes change one of the two."""

        def work(session: Session) -> tuple[int, int]:
            query = select(func.count(Face.id), func.coalesce(func.sum(Face.id), 0)).where(
                Face.model_id == model_id
            )
            count, total = session.execute(query).one()
            return int(count), int(total)

        return run_read(self._sessions, work)

    def count_by_model(self) -> dict[str, int]:
        def work(session: Session) -> dict[str, int]:
            query = select(Face.model_id, func.count(Face.id)).group_by(Face.model_id)
            return {str(model): int(n) for model, n in session.execute(query).all()}

        return run_read(self._sessions, work)

    def media_ref_in_use(self, ref: str) -> bool:
        """Whether any face still points at this photo (photos can be shared by faces)."""
        check_media_ref(ref)

        def work(session: Session) -> bool:
            return session.scalar(select(Face.id).where(Face.media_ref == ref).limit(1)) is not None

        return run_read(self._sessions, work)

    def all_media_refs(self) -> set[str]:
        def work(session: Session) -> set[str]:
            return set(session.scalars(select(Face.media_ref).distinct()))

        return run_read(self._sessions, work)


def _embedding_query() -> Select[int, int, bytes, int]:
    return select(Face.id, Face.person_id, Face.embedding, Face.dim)


def _batch(rows: Sequence[EmbeddingRow]) -> EmbeddingBatch:
    face_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    person_ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    vectors = decode_embeddings([bytes(r[2]) for r in rows], [int(r[3]) for r in rows])
    return face_ids, person_ids, vectors


def _get_face(session: Session, face_id: int, lock: bool = False) -> Face:
    row = session.get(Face, face_id, with_for_update=lock) if is_storable_id(face_id) else None
    if row is None:
        raise NotFoundError(f"face {face_id} not found", face_id=face_id)
    return row


def _require_person(session: Session, person_id: int) -> None:
    if (
        not is_storable_id(person_id)
        or session.scalar(select(Person.id).where(Person.id == person_id)) is None
    ):
        raise NotFoundError(f"person {person_id} not found", person_id=person_id)


def _locked_person(session: Session, person_id: int) -> Person:
    person = (
        session.get(Person, person_id, with_for_update=True) if is_storable_id(person_id) else None
    )
    if person is None:
        raise NotFoundError(f"person {person_id} not found", person_id=person_id)
    return person

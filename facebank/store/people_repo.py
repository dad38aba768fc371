"""People: create with faces atomically, read, search, update, delete (reporting lost faces)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, NotFoundError, ValidationFailedError
from facebank.store.coltypes import utcnow
from facebank.store.mapping import face_record, insert_faces, person_row
from facebank.store.people_reads import (
    PEOPLE_BY_IDS,
    people_select,
    person_from_row,
    read_people,
    read_person,
)
from facebank.store.records import (
    AGE_MAX,
    FaceRecord,
    NewFace,
    Page,
    PersonFields,
    PersonFilter,
    PersonRecord,
)
from facebank.store.tables import Face, Person
from facebank.store.tx import IN_CHUNK, SessionFactory, run_read, run_read_rows, run_write
from facebank.store.validation import MAX_ID, is_storable_id

# Keys `update` accepts; each maps onto the PersonFields attribute of the same name.
UPDATABLE_FIELDS = frozenset({"name", "age", "gender", "address", "external_id", "metadata"})


class PeopleRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def create(
        self, fields: PersonFields, faces: Sequence[NewFace] = ()
    ) -> tuple[PersonRecord, list[FaceRecord]]:
        """Insert the person and all faces in one transaction: all of them or nothing."""

        def work(session: Session) -> tuple[PersonRecord, list[FaceRecord]]:
            _ensure_external_id_free(session, fields.external_id, person_id=None)
            now = utcnow()
            row = person_row(fields, now)
            session.add(row)
            session.flush()
            stored = insert_faces(session, row.id, faces, now)
            return _reread(session, row.id), stored

        try:
            return run_write(self._sessions, work)
        except IntegrityError as exc:
            _raise_if_external_id_conflict(exc, fields.external_id)
            raise

    def get(self, person_id: int) -> PersonRecord:
        def work(session: Session) -> PersonRecord | None:
            return read_person(session, Person.id == person_id)

        found = run_read(self._sessions, work) if is_storable_id(person_id) else None
        if found is None:
            raise NotFoundError(f"person {person_id} not found", person_id=person_id)
        return found

    def get_many(self, person_ids: Iterable[int]) -> dict[int, PersonRecord]:
        """People by id; ids that do not exist (e.g. just deleted) are simply absent.

        On every recognition's path, so one prepared statement per chunk on a bare
        connection (a single statement needs no session to be consistent)."""
        wanted = sorted({int(i) for i in person_ids if is_storable_id(int(i))})
        found: dict[int, PersonRecord] = {}
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            rows = run_read_rows(self._sessions, PEOPLE_BY_IDS, {"ids": chunk})
            found.update((person.id, person) for person in map(person_from_row, rows))
        return found

    def get_by_external_id(self, external_id: str) -> PersonRecord:
        def work(session: Session) -> PersonRecord | None:
            return read_person(session, Person.external_id == external_id)

        found = run_read(self._sessions, work)
        if found is None:
            raise NotFoundError(
                f"no person with external id {external_id!r}", external_id=external_id
            )
        return found

    def search(
        self, criteria: PersonFilter, offset: int = 0, limit: int = 50
    ) -> Page[PersonRecord]:
        """Matching people ordered by id (stable across pages) plus the total match count."""
        if not (0 <= offset <= MAX_ID and 0 <= limit <= MAX_ID):
            raise ValidationFailedError("offset and limit must be non-negative 64-bit integers")
        conditions = _conditions(criteria)

        def work(session: Session) -> Page[PersonRecord]:
            total = session.scalar(select(func.count(Person.id)).where(*conditions)) or 0
            query = people_select(*conditions).order_by(Person.id).offset(offset).limit(limit)
            items = read_people(session, query)
            return Page(items=items, total=int(total), offset=offset, limit=limit)

        return run_read(self._sessions, work)

    def update(self, person_id: int, changes: Mapping[str, Any]) -> PersonRecord:
        """Set the given fields (others stay). `metadata` replaces the whole object; None clears
        an optional field. Unknown keys are refused rather than silently dropped."""
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise ValidationFailedError(
                f"unknown person fields: {sorted(unknown)}", fields=sorted(unknown)
            )

        def work(session: Session) -> PersonRecord:
            row = _get_person(session, person_id, lock=True)
            current = {
                "name": row.name,
                "age": row.age,
                "gender": row.gender,
                "address": row.address,
                "external_id": row.external_id,
                "metadata": row.meta,
            }
            merged = PersonFields(**{**current, **changes})  # validates the result as a whole
            if merged.external_id != row.external_id:
                _ensure_external_id_free(session, merged.external_id, person_id=row.id)
            row.name = merged.name
            row.age = merged.age
            row.gender = merged.gender
            row.address = merged.address
            row.external_id = merged.external_id
            row.meta = dict(merged.metadata)
            row.updated_at = utcnow()
            session.flush()
            return _reread(session, row.id)

        try:
            return run_write(self._sessions, work)
        except IntegrityError as exc:
            _raise_if_external_id_conflict(exc, changes.get("external_id"))
            raise

    def delete(self, person_id: int) -> list[FaceRecord]:
        """Delete the person and their faces; returns those faces so the caller can drop them
        from the vector index and the media store."""

        def work(session: Session) -> list[FaceRecord]:
            # The row lock makes a concurrent FaceRepository.add wait, so no face can slip in
            # between listing the faces and the cascade (and go unreported).
            row = _get_person(session, person_id, lock=True)
            faces = [
                face_record(face)
                for face in session.scalars(
                    select(Face).where(Face.person_id == row.id).order_by(Face.id)
                )
            ]
            # Explicit rather than relying on ON DELETE CASCADE alone, which SQLite only
            # honours with foreign_keys=ON.
            session.execute(delete(Face).where(Face.person_id == row.id))
            session.execute(delete(Person).where(Person.id == row.id))
            return faces

        return run_write(self._sessions, work)


def _reread(session: Session, person_id: int) -> PersonRecord:
    """The person as just written in this transaction, read the way every read does."""
    person = read_person(session, Person.id == person_id)
    assert person is not None  # flushed in this same transaction
    return person


def _get_person(session: Session, person_id: int, lock: bool = False) -> Person:
    row = (
        session.get(Person, person_id, with_for_update=lock) if is_storable_id(person_id) else None
    )
    if row is None:
        raise NotFoundError(f"person {person_id} not found", person_id=person_id)
    return row


def _ensure_external_id_free(
    session: Session, external_id: str | None, person_id: int | None
) -> None:
    if external_id is None:
        return
    owner = session.scalar(select(Person.id).where(Person.external_id == external_id))
    if owner is not None and owner != person_id:
        raise ConflictError(
            f"external id {external_id!r} already belongs to person {owner}",
            external_id=external_id,
            person_id=owner,
        )


def _raise_if_external_id_conflict(exc: IntegrityError, external_id: object) -> None:
    # A concurrent insert can pass the pre-check and lose at the unique index instead. Every
    # backend names the column or constraint (uq_people_external_id) in its message.
    if "external_id" in str(exc.orig):
        raise ConflictError(
            f"external id {external_id!r} already belongs to another person",
            external_id=external_id,
        ) from exc


# "/" rather than backslash: MySQL also treats backslash as an escape in string literals.
LIKE_ESCAPE = "/"


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _conditions(criteria: PersonFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    # lower() on both sides: PostgreSQL's LIKE is case-sensitive, MySQL's depends on collation,
    # SQLite's only folds ASCII (db.py installs a Unicode lower() for SQLite).
    if criteria.q:
        conditions.append(
            func.lower(Person.name).like(_like_pattern(criteria.q), escape=LIKE_ESCAPE)
        )
    if criteria.name is not None:
        conditions.append(func.lower(Person.name) == criteria.name.lower())
    if criteria.address:
        conditions.append(
            func.lower(Person.address).like(_like_pattern(criteria.address), escape=LIKE_ESCAPE)
        )
    # Clamped to just outside the storable range: same result, and no integer overflow in
    # the driver for absurd bounds such as age_max=10**30.
    if criteria.age_min is not None:
        conditions.append(Person.age >= min(max(criteria.age_min, -1), AGE_MAX + 1))
    if criteria.age_max is not None:
        conditions.append(Person.age <= min(max(criteria.age_max, -1), AGE_MAX + 1))
    if criteria.external_id is not None:
        conditions.append(Person.external_id == criteria.external_id)
    return conditions

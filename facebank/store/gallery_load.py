"""Bulk load of a gallery dump (gallery_dump's rows) into an empty gallery, in one transaction.

People and faces keep their ids, so a restored gallery answers exactly as the one exported
(the same person ids in every recognition). That needs an empty gallery, which is checked
inside the same write transaction; the load is then all or nothing: a crash or Ctrl-C
before the commit leaves the gallery empty, so running it again starts over cleanly.

Rows go in with Core executemany, BATCH rows per statement (psycopg and pymysql turn those
into multi-row INSERTs; sqlite3 reuses one prepared statement), never through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from facebank.errors import GalleryNotEmptyError, ValidationFailedError
from facebank.store.coltypes import utcnow
from facebank.store.people import NewFace, PersonFields
from facebank.store.tables import Face, Person
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id

BATCH = 2000
_PEOPLE = Person.__table__
_FACES = Face.__table__
T = TypeVar("T")


def gallery_ids(session_factory: SessionFactory) -> tuple[set[int], set[int]]:
    """(person ids, face ids) of the gallery: how a restore tells "already done" apart."""

    def work(session: Session) -> tuple[set[int], set[int]]:
        people = set(session.scalars(select(_PEOPLE.c.id)))
        faces = set(session.scalars(select(_FACES.c.id)))
        return people, faces

    return run_read(session_factory, work)


def person_rows(people: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dumped people as insertable rows, each checked as the API checks a new person."""
    now = utcnow()
    rows = []
    for person in people:
        fields = PersonFields(**{k: v for k, v in person.items() if k != "id"})
        rows.append({"id": _id(person.get("id")), **fields.model_dump(), "created_at": now,
                     "updated_at": now})  # fmt: skip
    return rows


def face_rows(faces: Sequence[dict[str, Any]], person_ids: set[int]) -> list[dict[str, Any]]:
    """Dumped faces as insertable rows, each checked as a new face is (NewFace)."""
    now = utcnow()
    rows = []
    for face in faces:
        person_id = _id(face.get("person_id"))
        if person_id not in person_ids:
            raise ValidationFailedError(f"face {face.get('id')} belongs to no person in the dump")
        fields = {k: v for k, v in face.items() if k not in ("id", "person_id")}
        checked = asdict(NewFace(**fields))
        rows.append({"id": _id(face.get("id")), "person_id": person_id, **checked,
                     "created_at": now})  # fmt: skip
    return rows


def load_gallery(
    session_factory: SessionFactory,
    people: Sequence[dict[str, Any]],
    faces: Sequence[dict[str, Any]],
) -> None:
    """Insert checked rows (person_rows, face_rows) into the empty gallery, atomically.
    Raises GalleryNotEmptyError, with nothing written, when the gallery has a person."""

    def work(session: Session) -> None:
        existing = session.scalar(select(func.count()).select_from(_PEOPLE)) or 0
        if existing:
            raise GalleryNotEmptyError(
                f"the gallery already has people ({existing}): restore into an empty one",
                people=int(existing),
            )
        connection = session.connection()
        for chunk in _chunks(people):
            connection.execute(insert(Person), chunk)
        for chunk in _chunks(faces):
            connection.execute(insert(Face), chunk)
        _advance_sequences(connection)

    run_write(session_factory, work)


def _advance_sequences(connection: Connection) -> None:
    """Explicit ids do not move PostgreSQL's sequences (MySQL's AUTO_INCREMENT and SQLite's
    rowid follow the largest id by themselves): set them past the restored ids, never back."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("people", "faces"):
        sequence = connection.scalar(text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
        top = connection.scalar(text(f"SELECT MAX(id) FROM {table}"))  # noqa: S608 - fixed names
        if sequence is None or top is None:
            continue
        last = connection.scalar(text(f"SELECT last_value FROM {sequence}"))  # noqa: S608
        connection.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": max(top, last)})


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not is_storable_id(value):
        raise ValidationFailedError(f"bad id {value!r} in the dump")
    return value


def _chunks(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]

"""Bulk load of a gallery dump (gallery_dump's rows) into an empty gallery, in one transaction.

People and faces keep their ids, so a restored gallery answers exactly as the one exported
(the same person ids in every recognition). That needs an empty gallery, which is checked
inside the same write transaction; the load is then all or nothing: a crash or Ctrl-C
before the commit leaves the gallery empty, so running it again starts over cleanly.

Rows go in through the driver's executemany, BATCH rows per call (pymysql turns those into
multi-row INSERTs, psycopg pipelines them, sqlite3 reuses one prepared statement): the
statement is compiled once by SQLAlchemy for the dialect, and each value is converted by
its column type's own bind processor, except JSON, which orjson writes (same JSON, a
fraction of the cost) — SQLAlchemy's per-row parameter handling was most of the load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import orjson
from sqlalchemy import JSON, Connection, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, GalleryNotEmptyError, ValidationFailedError
from facebank.store.changes import ChangeKind, record_change
from facebank.store.coltypes import utcnow
from facebank.store.gallery_dump import FACE_COLUMNS
from facebank.store.limits import MEDIA_TYPE_MAX, MODEL_ID_MAX
from facebank.store.people import PersonFields
from facebank.store.tables import Face, Person
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import check_media_ref, check_text_key, is_storable_id

BATCH = 2000
_PEOPLE: Table = Person.__table__  # type: ignore[assignment]  # declared as a FromClause
_FACES: Table = Face.__table__  # type: ignore[assignment]
_FACE_KEYS = frozenset(FACE_COLUMNS)
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
    """Dumped faces as insertable rows. Each is checked for what NewFace checks, in bulk
    where it can be (NewFace itself costs ~70 us a face: a third of the restore's time)."""
    now = utcnow()
    rows = [_face_row(face, person_ids, now) for face in faces]
    _check_numbers(rows)
    return rows


def _face_row(face: dict[str, Any], person_ids: set[int], now: datetime) -> dict[str, Any]:
    if face.keys() != _FACE_KEYS:
        raise ValidationFailedError(f"face {face.get('id')}: columns {sorted(face)} unexpected")
    row = {**face, "id": _id(face["id"]), "person_id": _id(face["person_id"]), "created_at": now}
    if row["person_id"] not in person_ids:
        raise ValidationFailedError(f"face {row['id']} belongs to no person in the dump")
    check_text_key("model_id", row["model_id"], MODEL_ID_MAX)
    check_text_key("media_type", row["media_type"], MEDIA_TYPE_MAX)
    check_media_ref(row["media_ref"])
    dim, embedding = row["dim"], row["embedding"]
    bad_dim = type(dim) is not int or dim <= 0
    if bad_dim or type(embedding) is not bytes or len(embedding) != 4 * dim:
        raise ValidationFailedError(f"face {row['id']}: embedding is not dim float32 values")
    for name in ("image_width", "image_height"):
        if type(row[name]) is not int or row[name] <= 0:
            raise ValidationFailedError(f"face {row['id']}: {name} must be a positive integer")
    if not isinstance(row["quality"], dict):
        raise ValidationFailedError(f"face {row['id']}: quality must be an object")
    return row


def _check_numbers(rows: list[dict[str, Any]]) -> None:
    """Boxes, landmarks, scores and embeddings are finite numbers of the right shapes
    (JSON parsers accept NaN, which PostgreSQL's JSONB and the index would not)."""
    try:
        boxes = np.array([r["box"] for r in rows], dtype=np.float64).reshape(len(rows), 4)
        scores = np.array([r["det_score"] for r in rows], dtype=np.float64)
        points = np.array([p for r in rows for p in r["landmarks"]], dtype=np.float64)
        vectors = np.frombuffer(b"".join(r["embedding"] for r in rows), dtype="<f4")
    except (ValueError, TypeError) as exc:
        problem = f"faces: box, landmarks or det_score malformed ({exc})"
        raise ValidationFailedError(problem) from exc
    if points.size and points.shape[1:] != (2,):
        raise ValidationFailedError("faces: landmarks must be [x, y] pairs")
    for name, values in (("box", boxes), ("det_score", scores), ("landmarks", points),
                         ("embedding", vectors)):  # fmt: skip
        if not np.isfinite(values).all():
            raise ValidationFailedError(f"faces: a {name} value is not finite")


def load_gallery(
    session_factory: SessionFactory,
    people: Sequence[dict[str, Any]],
    faces: Sequence[dict[str, Any]],
) -> int:
    """Insert checked rows (person_rows, face_rows) into the empty gallery, atomically;
    returns the change log's version of the load (a reset: followers rebuild).
    Raises GalleryNotEmptyError, with nothing written, when the gallery has a person."""

    def work(session: Session) -> int:
        existing = session.scalar(select(func.count()).select_from(_PEOPLE)) or 0
        if existing:
            raise GalleryNotEmptyError(
                f"the gallery already has people ({existing}): restore into an empty one",
                people=int(existing),
            )
        connection = session.connection()
        _insert_rows(connection, _PEOPLE, people)
        _insert_rows(connection, _FACES, faces)
        _advance_sequences(connection)
        return record_change(session, ChangeKind.RESET, ())

    try:
        return run_write(session_factory, work)
    except IntegrityError as exc:  # rolled back: nothing of the dump went in
        raise ConflictError(
            f"nothing was restored: the rows conflict (a duplicate id or external id?): {exc.orig}"
        ) from exc


def _insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=keys)
    order = list(compiled.positiontup or ()) if compiled.positional else keys
    convert = [_converter(table, key, connection) for key in order]
    for chunk in _chunks(rows):
        values = [tuple(c(row[k]) for k, c in zip(order, convert, strict=True)) for row in chunk]
        params: Sequence[Any] = (
            values if compiled.positional else [dict(zip(order, v, strict=True)) for v in values]
        )
        connection.exec_driver_sql(compiled.string, params)


def _converter(table: Table, key: str, connection: Connection) -> Callable[[Any], Any]:
    """What the column's type would hand the driver for a value."""
    column_type = table.c[key].type.dialect_impl(connection.dialect)
    if isinstance(column_type, JSON):
        return _json_text
    processor = column_type.bind_processor(connection.dialect)
    return _same if processor is None else _last_remembered(processor)


def _last_remembered(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`processor`, skipped for the value it was just given: every row of a load shares
    its created_at, whose conversion was a third of the rows' Python time."""
    last: list[Any] = [_UNSEEN, None]

    def convert(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, processor(value)
        return last[1]

    return convert


_UNSEEN = object()


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError) as exc:  # e.g. an integer over 64 bits
        raise ValidationFailedError(f"a JSON value cannot be stored: {exc}") from exc


def _same(value: Any) -> Any:
    return value


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

"""Bulk load of a gallery dump (gallery_dump's rows) into an empty gallery, in one transaction.

People, faces and "not this person" labels keep their ids, so a restored gallery answers
exactly as the one exported (the same person ids in every recognition). That needs an
empty gallery, which is checked inside the same write transaction; the load is then all or
nothing: a crash or Ctrl-C before the commit leaves the gallery empty, so running it again
starts over cleanly.

Rows go in through the driver's executemany, BATCH rows per call (pymysql turns those into
multi-row INSERTs, psycopg pipelines them, sqlite3 reuses one prepared statement): the
statement is compiled once by SQLAlchemy for the dialect, and each column's values are
converted by its type's own bind processor, except JSON, which orjson writes (same JSON, a
fraction of the cost) — SQLAlchemy's per-row parameter handling was most of the load. On
SQLite the secondary indexes are built after the rows, in the same transaction, under the
rollback journal rather than WAL where possible (bulk_load).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import orjson
from sqlalchemy import JSON, Connection, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, GalleryNotEmptyError, ValidationFailedError
from facebank.store.bulk_load import indexes_after, rollback_journal
from facebank.store.changes import ChangeKind, record_change
from facebank.store.coltypes import utcnow
from facebank.store.tables import Face, NegativeLabel, Person
from facebank.store.tx import SessionFactory, run_read, run_write

BATCH = 2000
_PEOPLE: Table = Person.__table__  # type: ignore[assignment]  # declared as a FromClause
_FACES: Table = Face.__table__  # type: ignore[assignment]
_NEGATIVES: Table = NegativeLabel.__table__  # type: ignore[assignment]
T = TypeVar("T")


def gallery_ids(session_factory: SessionFactory) -> tuple[set[int], set[int]]:
    """(person ids, face ids) of the gallery: how a restore tells "already done" apart."""

    def work(session: Session) -> tuple[set[int], set[int]]:
        people = set(session.scalars(select(_PEOPLE.c.id)))
        faces = set(session.scalars(select(_FACES.c.id)))
        return people, faces

    return run_read(session_factory, work)


def load_gallery(
    session_factory: SessionFactory,
    people: Sequence[dict[str, Any]],
    faces: Sequence[dict[str, Any]],
    before_commit: Callable[[], object] | None = None,
    negatives: Sequence[dict[str, Any]] = (),
) -> int:
    """Insert checked rows (gallery_checks' person_rows, face_rows, and negative_checks'
    negative_rows, which keep their own times) into the empty gallery, atomically, people
    and faces stamped with the time of the load; returns the change log's version of
    the load (a reset: followers rebuild). `before_commit` runs once the rows are in, inside
    the transaction: what it raises rolls the load back (a restore waits there for the
    photos it copies meanwhile, which a committed face must have).
    Raises GalleryNotEmptyError, with nothing written, when the gallery has a person."""

    def work(session: Session) -> int:
        existing = session.scalar(select(func.count()).select_from(_PEOPLE)) or 0
        if existing:
            raise GalleryNotEmptyError(
                f"the gallery already has people ({existing}): restore into an empty one",
                people=int(existing),
            )
        connection = session.connection()
        now = utcnow()
        with indexes_after(connection, (_PEOPLE.name, _FACES.name)):
            _insert_rows(connection, _PEOPLE, people, {"created_at": now, "updated_at": now})
            _insert_rows(connection, _FACES, faces, {"created_at": now})
        _insert_rows(connection, _NEGATIVES, negatives, {})  # few: its indexes stay
        _advance_sequences(connection)
        version = record_change(session, ChangeKind.RESET, ())
        if before_commit is not None:
            before_commit()
        return version

    try:
        with rollback_journal(session_factory.kw["bind"]):
            return run_write(session_factory, work)
    except IntegrityError as exc:  # rolled back: nothing of the dump went in
        raise ConflictError(
            f"nothing was restored: the rows conflict (a duplicate id or external id?): {exc.orig}"
        ) from exc


def load_negatives(session_factory: SessionFactory, rows: Sequence[dict[str, Any]]) -> int:
    """Insert checked label rows (new ids) in one transaction, unless the gallery has a
    label already (an earlier run of the same re-embedded restore put them in): how many
    went in. All or none."""

    def work(session: Session) -> int:
        if session.scalar(select(func.count()).select_from(_NEGATIVES)):
            return 0
        _insert_rows(session.connection(), _NEGATIVES, rows, {})
        return len(rows)

    try:
        return run_write(session_factory, work)
    except IntegrityError as exc:  # e.g. a person deleted meanwhile: rolled back
        raise ConflictError(f"no label was restored: the rows conflict: {exc.orig}") from exc


def _insert_rows(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]], shared: dict[str, Any]
) -> None:
    """`rows` (all with the same keys) plus the `shared` values every row has, a column at
    a time: each column's values are converted by one map over the batch and zipped into
    the driver's tuples, instead of one Python call per value."""
    if not rows:
        return
    keys = [*rows[0], *shared]
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=keys)
    order = list(compiled.positiontup or ()) if compiled.positional else keys
    convert = {key: _converter(table, key, connection) for key in order}
    for chunk in _chunks(rows):
        columns = [_column(chunk, key, shared, convert[key]) for key in order]
        values = list(zip(*columns, strict=True))
        params: Sequence[Any] = (
            values if compiled.positional else [dict(zip(order, v, strict=True)) for v in values]
        )
        connection.exec_driver_sql(compiled.string, params)


def _column(
    chunk: Sequence[dict[str, Any]], key: str, shared: dict[str, Any],
    convert: Callable[[Any], Any] | None,
) -> list[Any]:  # fmt: skip
    if key in shared:
        value = shared[key] if convert is None else convert(shared[key])
        return [value] * len(chunk)
    values = [row[key] for row in chunk]
    return values if convert is None else list(map(convert, values))


def _converter(table: Table, key: str, connection: Connection) -> Callable[[Any], Any] | None:
    """What the column's type would hand the driver for a value (None: the value itself)."""
    column_type = table.c[key].type.dialect_impl(connection.dialect)
    if isinstance(column_type, JSON):
        return _json_text
    return column_type.bind_processor(connection.dialect)


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError) as exc:  # e.g. an integer over 64 bits
        raise ValidationFailedError(f"a JSON value cannot be stored: {exc}") from exc


def _advance_sequences(connection: Connection) -> None:
    """Explicit ids do not move PostgreSQL's sequences (MySQL's AUTO_INCREMENT and SQLite's
    rowid follow the largest id by themselves): set them past the restored ids, never back."""
    if connection.dialect.name != "postgresql":
        return
    for table in ("people", "faces", "negative_labels"):
        sequence = connection.scalar(text(f"SELECT pg_get_serial_sequence('{table}', 'id')"))
        top = connection.scalar(text(f"SELECT MAX(id) FROM {table}"))  # noqa: S608 - fixed names
        if sequence is None or top is None:
            continue
        last = connection.scalar(text(f"SELECT last_value FROM {sequence}"))  # noqa: S608
        connection.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": max(top, last)})


def _chunks(rows: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]

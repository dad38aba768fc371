"""People and their faces: the fields and their limits, the records, row mapping, repositories.

Each person field and its limits are declared once, here, as an `Annotated` type; the API's
request models and search parameters are built from the same types and constants, so what
the HTTP API accepts and what the store accepts cannot drift apart. Callers never see ORM
objects or sessions: values are copied into frozen records.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from sqlalchemy import ColumnElement, Row, Select, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, NotFoundError, ValidationFailedError
from facebank.store.audit import AuditsFor, audited_all
from facebank.store.changes import ChangeKind, record_change
from facebank.store.coltypes import utcnow
from facebank.store.limits import (
    ADDRESS_MAX,
    AGE_MAX,
    EXTERNAL_ID_MAX,
    GENDER_MAX,
    MEDIA_TYPE_MAX,
    MODEL_ID_MAX,
    NAME_MAX,
)
from facebank.store.paging import Page
from facebank.store.person_cache import PersonCache
from facebank.store.shapes import CheckedInput
from facebank.store.tables import Face, Person
from facebank.store.tx import IN_CHUNK, SessionFactory, run_read, run_read_rows, run_write
from facebank.store.validation import (
    MAX_ID,
    check_media_ref,
    check_text_key,
    is_storable_id,
    not_blank,
)
from facebank.store.vectors import decode_embeddings

# --- person fields: each one declared once, its limit from store.limits ----------------------


def _not_bool(value: object) -> object:
    # bool is an int, and pydantic's lax mode would take `true` for age 1.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


# One encoder, not json.dumps(allow_nan=False), which builds a new one per call: that was
# most of checking a 20,000-person restore's people.
_STRICT_JSON = json.JSONEncoder(allow_nan=False)


def _strict_json(value: dict[str, Any]) -> dict[str, Any]:
    # Strict JSON (no NaN) on every backend: PostgreSQL's JSONB would refuse what SQLite keeps.
    try:
        _STRICT_JSON.encode(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not JSON-serialisable: {exc}") from None
    return value


Name = Annotated[
    str, StringConstraints(min_length=1, max_length=NAME_MAX), AfterValidator(not_blank)
]
Age = Annotated[int, Field(ge=0, le=AGE_MAX), BeforeValidator(_not_bool)]
Gender = Annotated[str, StringConstraints(max_length=GENDER_MAX)]
Address = Annotated[str, StringConstraints(max_length=ADDRESS_MAX)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=EXTERNAL_ID_MAX)]
Metadata = Annotated[dict[str, Any], AfterValidator(_strict_json)]


class PersonFields(CheckedInput):
    """Everything about a person that a caller sets; the API's create body is this model.

    Bad values raise ValidationFailedError with the problems by field, whoever builds it, so
    SQLite (which enforces no lengths) accepts exactly what MySQL and PostgreSQL accept."""

    subject: ClassVar[str] = "the person"

    name: Name = Field(examples=["Ada Lovelace"])
    age: Age | None = Field(default=None, examples=[36])
    gender: Gender | None = Field(default=None, examples=["female"])
    address: Address | None = Field(default=None, examples=["London"])
    external_id: ExternalId | None = Field(default=None, examples=["S-1815"])
    metadata: Metadata = Field(default_factory=dict, examples=[{"class_id": "CS101"}])


# --- records --------------------------------------------------------------------------------


class PersonRecord(BaseModel):
    """A stored person, as every read returns it; the API answers with exactly this shape
    (PersonOut), so it has no limits of its own: those belong to what is written."""

    model_config = ConfigDict(frozen=True)

    id: int
    external_id: str | None
    name: str
    age: int | None
    gender: str | None
    address: str | None
    metadata: dict[str, Any]
    face_count: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PersonFilter:
    """Search criteria; all given ones must hold. Text matches are case-insensitive."""

    q: str | None = None  # substring of the name
    name: str | None = None  # the whole name
    age_min: int | None = None
    age_max: int | None = None
    address: str | None = None  # substring of the address
    external_id: str | None = None  # exact, case-sensitive


class SortKey(StrEnum):
    """What a people search can be ordered by."""

    ID = "id"
    NAME = "name"
    AGE = "age"
    GENDER = "gender"
    ADDRESS = "address"
    EXTERNAL_ID = "external_id"
    FACE_COUNT = "face_count"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@dataclass(frozen=True)
class PersonOrder:
    """The order of a people search. Ties break by id in the same direction, so pages are
    stable; people without the value (no age, no address) come last either way."""

    key: SortKey = SortKey.ID
    descending: bool = False


@dataclass(frozen=True)
class FaceRecord:
    id: int
    person_id: int
    model_id: str
    box: list[float]  # [x1, y1, x2, y2] in original-image pixels
    landmarks: list[list[float]]  # [[x, y], ...], five points for the default detector
    det_score: float
    quality: dict[str, Any]
    media_ref: str
    media_type: str
    image_width: int
    image_height: int
    created_at: datetime


@dataclass(frozen=True)
class NewFace:
    """A face to store. `embedding` is `dim` little-endian float32 values (see
    `vectors.encode_embedding`); box and landmarks may be numpy arrays or tuples, they are
    normalised to lists of floats here so they serialise to JSON."""

    model_id: str
    embedding: bytes
    dim: int
    box: Sequence[float] | NDArray[Any]
    landmarks: Sequence[Sequence[float]] | NDArray[Any]
    det_score: float
    quality: Mapping[str, Any]
    media_ref: str
    media_type: str
    image_width: int
    image_height: int

    def __post_init__(self) -> None:
        check_text_key("model_id", self.model_id, MODEL_ID_MAX)
        if not isinstance(self.embedding, bytes | bytearray | memoryview):
            raise ValidationFailedError("embedding must be bytes", field="embedding")
        embedding = bytes(self.embedding)
        if isinstance(self.dim, bool) or not isinstance(self.dim, int) or self.dim <= 0:
            raise ValidationFailedError("dim must be a positive integer", field="dim")
        if len(embedding) != 4 * self.dim:
            raise ValidationFailedError(
                f"embedding has {len(embedding)} bytes, expected {4 * self.dim} (float32 x dim)",
                field="embedding",
            )
        box = _floats("box", self.box)
        if len(box) != 4:
            raise ValidationFailedError("box must be [x1, y1, x2, y2]", field="box")
        landmarks = tuple(_floats("landmarks", point) for point in self.landmarks)
        if any(len(point) != 2 for point in landmarks):
            raise ValidationFailedError("landmarks must be [x, y] pairs", field="landmarks")
        quality = dict(self.quality)
        try:
            json.dumps(quality, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationFailedError(f"quality is not JSON-serialisable: {exc}") from exc
        check_media_ref(self.media_ref)
        check_text_key("media_type", self.media_type, MEDIA_TYPE_MAX)
        # Frozen dataclass: normalised values are written through object.__setattr__.
        object.__setattr__(self, "embedding", embedding)
        object.__setattr__(self, "box", list(box))
        object.__setattr__(self, "landmarks", [list(point) for point in landmarks])
        object.__setattr__(self, "det_score", _finite("det_score", self.det_score))
        object.__setattr__(self, "quality", quality)
        object.__setattr__(self, "image_width", _positive_int("image_width", self.image_width))
        object.__setattr__(self, "image_height", _positive_int("image_height", self.image_height))


def _floats(name: str, values: Any) -> tuple[float, ...]:
    try:
        return tuple(_finite(name, v) for v in values)
    except TypeError as exc:
        raise ValidationFailedError(f"{name} must be a list of numbers", field=name) from exc


def _finite(name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValidationFailedError(f"{name} must be a number", field=name) from exc
    if not math.isfinite(number):
        raise ValidationFailedError(f"{name} must be finite", field=name)
    return number


def _positive_int(name: str, value: Any) -> int:
    # numpy integers are fine (the pipeline reports sizes from array shapes); bools are not.
    if isinstance(value, bool | float | str) or not hasattr(value, "__index__"):
        raise ValidationFailedError(f"{name} must be a positive integer", field=name)
    number = int(value)
    if number <= 0:
        raise ValidationFailedError(f"{name} must be a positive integer", field=name)
    return number


# --- row mapping ----------------------------------------------------------------------------

# Records copy their values, so none shares a list or dict with a session. Field names are
# the column names, except that declarative classes reserve `metadata` (the attribute `meta`).
_PERSON_ATTRIBUTE = {"metadata": "meta"}
_FACE_RECORD_FIELDS = tuple(f.name for f in fields(FaceRecord))
# What a re-embedding replaces; the photo and its size stay.
_EMBEDDING_FIELDS = ("model_id", "embedding", "dim", "box", "landmarks", "det_score", "quality")

_PEOPLE = Person.__table__
_FACES = Face.__table__
_FACE_COUNT_OF_ROW = (
    select(func.count(_FACES.c.id))
    .where(_FACES.c.person_id == _PEOPLE.c.id)
    .correlate(_PEOPLE)
    .scalar_subquery()
)
_FACE_COUNT = _FACE_COUNT_OF_ROW.label("face_count")


def people_select(*conditions: ColumnElement[bool]) -> Select[tuple[object, ...]]:
    """People matching `conditions`, each row with its face count; add order and limits.
    Core rather than ORM: it is on the path of every recognition (see get_many)."""
    return select(_PEOPLE, _FACE_COUNT).where(*conditions)


# Built once: the statement's cache key is then computed once, not per call.
PEOPLE_BY_IDS = people_select(_PEOPLE.c.id.in_(bindparam("ids", expanding=True)))
PEOPLE_BY_NAME = people_select(_PEOPLE.c.name == bindparam("name")).order_by(_PEOPLE.c.id)


def person_from_row(row: Row[Any]) -> PersonRecord:
    # No copy needed: the driver decodes each row's JSON into a fresh object, held by nobody.
    return PersonRecord.model_validate(row._mapping)


def read_people(session: Session, query: Select[tuple[object, ...]]) -> list[PersonRecord]:
    return [person_from_row(row) for row in session.execute(query)]


def read_person(session: Session, *conditions: ColumnElement[bool]) -> PersonRecord | None:
    found = read_people(session, people_select(*conditions).limit(1))
    return found[0] if found else None


def _person_fields(row: Person) -> dict[str, Any]:
    return {
        name: getattr(row, _PERSON_ATTRIBUTE.get(name, name)) for name in PersonFields.model_fields
    }


def _write_person_fields(row: Person, person: PersonFields) -> None:
    for name, value in person.model_dump().items():
        setattr(row, _PERSON_ATTRIBUTE.get(name, name), value)


def face_record(row: Face) -> FaceRecord:
    return FaceRecord(**{name: copy.deepcopy(getattr(row, name)) for name in _FACE_RECORD_FIELDS})


def _columns(face: NewFace) -> dict[str, Any]:
    return {f.name: getattr(face, f.name) for f in fields(face)}


def insert_faces(
    session: Session, person_id: int, faces: Iterable[NewFace], now: datetime
) -> list[FaceRecord]:
    """Insert faces (flushed, so ids exist and constraint failures surface here)."""
    # The fields as they are, not asdict's deep copy: NewFace normalised them already, the
    # rows only serialise them, and the copy was most of a bulk import's insert time.
    rows = [Face(person_id=person_id, created_at=now, **_columns(face)) for face in faces]
    session.add_all(rows)
    session.flush()
    return [face_record(row) for row in rows]


# --- people ---------------------------------------------------------------------------------


class PeopleRepository:
    """People: create with faces atomically, read, search, update, delete (reporting the
    faces that went with them)."""

    def __init__(self, session_factory: SessionFactory, cache: PersonCache | None = None) -> None:
        self._sessions = session_factory
        # For get_many only; it must be emptied by the engine's commits (clear_on_commit).
        self._cache = cache

    def create(
        self,
        person: PersonFields,
        faces: Sequence[NewFace] = (),
        audit: AuditsFor[tuple[PersonRecord, list[FaceRecord]]] | None = None,
    ) -> tuple[PersonRecord, list[FaceRecord]]:
        """Insert the person and all faces in one transaction: all of them or nothing, with
        their `audit` entries when given."""

        def work(session: Session) -> tuple[PersonRecord, list[FaceRecord]]:
            _ensure_external_id_free(session, person.external_id, person_id=None)
            now = utcnow()
            row = Person(created_at=now, updated_at=now)
            _write_person_fields(row, person)
            session.add(row)
            session.flush()
            stored = insert_faces(session, row.id, faces, now)
            if stored:
                record_change(session, ChangeKind.ADD, (face.id for face in stored))
            created = (_reread(session, row.id), stored)
            return created if audit is None else audited_all(session, created, audit, now)

        try:
            return run_write(self._sessions, work)
        except IntegrityError as exc:
            _raise_if_external_id_conflict(exc, person.external_id)
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

        On every recognition's path, so from the cache where one is given (store/
        person_cache.py), else one prepared statement per chunk on a bare connection (a
        single statement needs no session to be consistent)."""
        wanted = {int(i) for i in person_ids if is_storable_id(int(i))}
        if self._cache is None:
            return self._read_many(wanted)
        generation = self._cache.generation
        found = self._cache.get(wanted)
        read = self._read_many(wanted - found.keys())
        self._cache.put(read.values(), generation)
        return found | read

    def _read_many(self, person_ids: Iterable[int]) -> dict[int, PersonRecord]:
        wanted = sorted(person_ids)
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

    def named(self, name: str) -> list[PersonRecord]:
        """The people whose name equals `name`, by id: one read on the name's index (a
        search by name lowers both sides, which no index serves, and counts its matches),
        once per person of an import, so a prepared statement on a bare connection.
        Byte-exact on SQLite and PostgreSQL; MySQL's default collation also folds case."""

        rows = run_read_rows(self._sessions, PEOPLE_BY_NAME, {"name": name})
        return [person_from_row(row) for row in rows]

    def search(
        self,
        criteria: PersonFilter,
        offset: int = 0,
        limit: int = 50,
        order: PersonOrder = PersonOrder(),
    ) -> Page[PersonRecord]:
        """Matching people in `order` (stable across pages) plus the total match count."""
        if not (0 <= offset <= MAX_ID and 0 <= limit <= MAX_ID):
            raise ValidationFailedError("offset and limit must be non-negative 64-bit integers")
        conditions = _conditions(criteria)

        def work(session: Session) -> Page[PersonRecord]:
            total = session.scalar(select(func.count(Person.id)).where(*conditions)) or 0
            # The page's ids first, then only their rows: a deep page skips ids, not whole
            # rows with their face counts (about 3x faster on page 200 of 10,000 people).
            ids_query = select(Person.id).where(*conditions).order_by(*_order_by(order))
            ids = list(session.scalars(ids_query.offset(offset).limit(limit)))
            found: dict[int, PersonRecord] = {}
            for start in range(0, len(ids), IN_CHUNK):
                rows = session.execute(PEOPLE_BY_IDS, {"ids": ids[start : start + IN_CHUNK]})
                found.update((p.id, p) for p in map(person_from_row, rows))
            items = [found[i] for i in ids]
            return Page(items=items, total=int(total), offset=offset, limit=limit)

        return run_read(self._sessions, work)

    def update(self, person_id: int, changes: Mapping[str, Any]) -> PersonRecord:
        """Set the given fields (others stay). `metadata` replaces the whole object; None clears
        an optional field. Unknown keys are refused rather than silently dropped."""
        unknown = set(changes) - set(PersonFields.model_fields)
        if unknown:
            raise ValidationFailedError(
                f"unknown person fields: {sorted(unknown)}", fields=sorted(unknown)
            )

        def work(session: Session) -> PersonRecord:
            row = _get_person(session, person_id, lock=True)
            # Validated as a whole: the result must be a valid person, not only the changes.
            merged = PersonFields(**{**_person_fields(row), **changes})
            if merged.external_id != row.external_id:
                _ensure_external_id_free(session, merged.external_id, person_id=row.id)
            _write_person_fields(row, merged)
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
            faces = _faces_of(session, row.id)
            # Explicit rather than relying on ON DELETE CASCADE alone, which SQLite only
            # honours with foreign_keys=ON.
            session.execute(delete(Face).where(Face.person_id == row.id))
            session.execute(delete(Person).where(Person.id == row.id))
            if faces:
                record_change(session, ChangeKind.REMOVE, (face.id for face in faces))
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


def _require_person(session: Session, person_id: int) -> None:
    if (
        not is_storable_id(person_id)
        or session.scalar(select(Person.id).where(Person.id == person_id)) is None
    ):
        raise NotFoundError(f"person {person_id} not found", person_id=person_id)


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


# Text sorts by lower(): backends' collations disagree on case (MySQL folds it, SQLite not).
_SORT_COLUMNS: dict[SortKey, Any] = {
    SortKey.ID: _PEOPLE.c.id,
    SortKey.NAME: func.lower(_PEOPLE.c.name),
    SortKey.AGE: _PEOPLE.c.age,
    SortKey.GENDER: func.lower(_PEOPLE.c.gender),
    SortKey.ADDRESS: func.lower(_PEOPLE.c.address),
    SortKey.EXTERNAL_ID: _PEOPLE.c.external_id,
    SortKey.FACE_COUNT: _FACE_COUNT_OF_ROW,  # unlabelled: sorts a query of ids only
    SortKey.CREATED_AT: _PEOPLE.c.created_at,
    SortKey.UPDATED_AT: _PEOPLE.c.updated_at,
}


_NULLABLE_KEYS = {SortKey.AGE, SortKey.GENDER, SortKey.ADDRESS, SortKey.EXTERNAL_ID}


def _order_by(order: PersonOrder) -> list[Any]:
    column = _SORT_COLUMNS[order.key]
    by_id = _PEOPLE.c.id.desc() if order.descending else _PEOPLE.c.id.asc()
    if order.key is SortKey.ID:
        return [by_id]
    value = column.desc() if order.descending else column.asc()
    if order.key not in _NULLABLE_KEYS:
        return [value, by_id]
    # NULLS LAST spelled portably: MySQL has no NULLS LAST, and the backends disagree on
    # where NULL sorts by default.
    return [column.is_(None).asc(), value, by_id]


# --- faces ----------------------------------------------------------------------------------

# (face ids int64 (n,), person ids int64 (n,), vectors float32 (n, dim))
EmbeddingBatch = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]
EmbeddingRow = Row[int, int, bytes, int]  # id, person_id, embedding, dim


class FaceRepository:
    """Faces: add and remove for a person, and the embedding reads the vector index is
    built and checked from."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    @property
    def session_factory(self) -> SessionFactory:
        return self._sessions

    def add(
        self,
        person_id: int,
        faces: Sequence[NewFace],
        audit: AuditsFor[list[FaceRecord]] | None = None,
    ) -> list[FaceRecord]:
        """Add faces to an existing person in one transaction (all or none), with their
        `audit` entries when given."""

        def work(session: Session) -> list[FaceRecord]:
            # Locked so a concurrent PeopleRepository.delete cannot miss these faces.
            person = _get_person(session, person_id, lock=True)
            now = utcnow()
            stored = insert_faces(session, person.id, faces, now)
            person.updated_at = now
            if stored:
                record_change(session, ChangeKind.ADD, (face.id for face in stored))
            return stored if audit is None else audited_all(session, stored, audit, now)

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
            return _faces_of(session, person_id)

        return run_read(self._sessions, work)

    def delete(self, face_id: int) -> FaceRecord:
        def work(session: Session) -> FaceRecord:
            # Lock order person -> faces, as everywhere else, so this cannot deadlock with a
            # concurrent delete of the whole person.
            person_id = _get_face(session, face_id).person_id
            person = session.get(Person, person_id, with_for_update=True)
            record = face_record(_get_face(session, face_id, lock=True))
            session.execute(delete(Face).where(Face.id == face_id))
            if person is not None:
                person.updated_at = utcnow()
            record_change(session, ChangeKind.REMOVE, [face_id])
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
            for name in _EMBEDDING_FIELDS:
                setattr(row, name, copy.deepcopy(getattr(face, name)))
            session.flush()
            record_change(session, ChangeKind.REPLACE, [face_id])
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

    def fetch_embeddings(
        self, face_ids: Iterable[int], model_id: str | None = None
    ) -> EmbeddingBatch:
        """The given faces (of `model_id`, or any model), in id order; ids that do not exist
        (or are of another model) are left out."""
        wanted = sorted({int(i) for i in face_ids if is_storable_id(int(i))})
        of_model = () if model_id is None else (Face.model_id == model_id,)

        def work(session: Session) -> list[EmbeddingRow]:
            rows: list[EmbeddingRow] = []
            for start in range(0, len(wanted), IN_CHUNK):
                chunk = wanted[start : start + IN_CHUNK]
                query = _embedding_query().where(Face.id.in_(chunk), *of_model).order_by(Face.id)
                rows.extend(session.execute(query).all())
            return rows

        return _batch(run_read(self._sessions, work))

    def face_ids(self, model_id: str) -> NDArray[np.int64]:
        """Sorted ids of every face of a model (for checking the index against the database)."""

        def work(session: Session) -> NDArray[np.int64]:
            query = select(Face.id).where(Face.model_id == model_id).order_by(Face.id)
            # Core rows, not ORM loading: a third of the time for 100,000 ids.
            return np.fromiter(session.connection().execute(query).scalars(), dtype=np.int64)

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
        return ref in self.media_refs_in_use([ref])

    def media_refs_in_use(self, refs: Iterable[str]) -> set[str]:
        """Those of these photos some face points at: one read for many (an import asks
        once per person, not once per photo)."""
        wanted = sorted({check_media_ref(ref) for ref in refs})
        found: set[str] = set()
        # A statement per chunk on a bare connection, as get_many: no session's bookkeeping
        # (most of the cost of an import's per-person ask). One snapshot across the chunks
        # would guarantee nothing: every caller acts on the answer after the reads end.
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            rows = run_read_rows(self._sessions, _MEDIA_REFS_IN_USE, {"refs": chunk})
            found.update(row[0] for row in rows)
        return found

    def all_media_refs(self) -> set[str]:
        def work(session: Session) -> set[str]:
            return set(session.scalars(select(Face.media_ref).distinct()))

        return run_read(self._sessions, work)


_MEDIA_REFS_IN_USE = (
    select(_FACES.c.media_ref)
    .where(_FACES.c.media_ref.in_(bindparam("refs", expanding=True)))
    .distinct()
)


def _faces_of(session: Session, person_id: int) -> list[FaceRecord]:
    query = select(Face).where(Face.person_id == person_id).order_by(Face.id)
    return [face_record(row) for row in session.scalars(query)]


def _get_face(session: Session, face_id: int, lock: bool = False) -> Face:
    row = session.get(Face, face_id, with_for_update=lock) if is_storable_id(face_id) else None
    if row is None:
        raise NotFoundError(f"face {face_id} not found", face_id=face_id)
    return row


def _embedding_query() -> Select[int, int, bytes, int]:
    return select(Face.id, Face.person_id, Face.embedding, Face.dim)


def _batch(rows: Sequence[EmbeddingRow]) -> EmbeddingBatch:
    face_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    person_ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
    vectors = decode_embeddings([bytes(r[2]) for r in rows], [int(r[3]) for r in rows])
    return face_ids, person_ids, vectors

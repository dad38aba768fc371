"""Fixing people: merge two people into one, split selected faces off into a new person.

Each is one transaction: the faces move (same ids, vectors and photos) and the change log
says so (ChangeKind.MOVE), so every worker's index re-reads those faces and learns their
new person. Lock order is the one the gallery uses everywhere: people (by id), then faces,
then the change log's head row, last.

Merge also moves the source person's history: the sessions' events and per-session
summaries, unknown clusters pointing at the person and their negative labels. Past event
payloads and webhook deliveries are left as they were sent: a receiver already holds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from facebank.errors import NotFoundError, ValidationFailedError
from facebank.store.changes import ChangeKind, record_change
from facebank.store.coltypes import utcnow
from facebank.store.limits import SPLIT_FACES_MAX
from facebank.store.people import (
    PersonFields,
    PersonRecord,
    _ensure_external_id_free,
    _get_person,
    _person_fields,
    _reread,
    _write_person_fields,
)
from facebank.store.tables import (
    Face,
    NegativeLabel,
    Person,
    SessionEvent,
    SessionPerson,
    UnknownCluster,
)
from facebank.store.tx import SessionFactory, run_write
from facebank.store.validation import is_storable_id

# Optional fields a merge fills on the target from the source when the target has none.
FILLABLE_FIELDS = ("age", "gender", "address", "external_id")


@dataclass(frozen=True)
class MergeResult:
    person: PersonRecord  # the target, as it is after the merge
    face_ids: tuple[int, ...]  # the source's faces, now the target's
    session_events: int  # events re-pointed at the target
    session_people: int  # per-session summary rows moved or folded into the target's
    unknown_clusters: int  # clusters whose person or flagged match was the source
    negative_labels: int
    filled_fields: tuple[str, ...]  # target fields taken from the source (it had none)


@dataclass(frozen=True)
class SplitResult:
    source: PersonRecord  # the person the faces left, as it is now
    person: PersonRecord  # the new person
    face_ids: tuple[int, ...]


class PeopleFixRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def merge(self, target_id: int, source_id: int) -> MergeResult:
        """Fold person `source_id` into `target_id` and delete the source (one transaction).
        The target keeps its fields; ones it lacks are filled from the source; metadata is
        merged key by key, the target's value winning."""
        if target_id == source_id:
            raise ValidationFailedError("a person cannot be merged with itself")

        def work(session: Session) -> MergeResult:
            target, source = _lock_pair(session, target_id, source_id)
            face_ids = _face_ids_of(session, source.id)
            filled = _fold_fields(target, source)
            counts = _move_history(session, source.id, target.id)
            session.execute(
                update(Face).where(Face.person_id == source.id).values(person_id=target.id)
            )
            # The source's external id is freed with its row before the target may take it.
            session.execute(delete(Person).where(Person.id == source.id))
            session.flush()
            _write_person_fields(target, filled[0])
            target.updated_at = utcnow()
            session.flush()
            if face_ids:
                record_change(session, ChangeKind.MOVE, face_ids)
            return MergeResult(_reread(session, target.id), tuple(face_ids), *counts, filled[1])

        return run_write(self._sessions, work)

    def split(self, person_id: int, face_ids: Sequence[int], fields: PersonFields) -> SplitResult:
        """Move the given faces of the person to a new person made of `fields`. Refused:
        no faces, faces of someone else (or none at all), or every face the person has."""
        wanted = sorted({int(i) for i in face_ids})
        if not wanted:
            raise ValidationFailedError("choose at least one face to split off", field="face_ids")
        if len(wanted) > SPLIT_FACES_MAX:
            raise ValidationFailedError(
                f"at most {SPLIT_FACES_MAX} faces per split", field="face_ids"
            )

        def work(session: Session) -> SplitResult:
            source = _get_person(session, person_id, lock=True)
            _check_selection(session, source.id, wanted)
            _ensure_external_id_free(session, fields.external_id, person_id=None)
            now = utcnow()
            created = Person(created_at=now, updated_at=now)
            _write_person_fields(created, fields)
            session.add(created)
            session.flush()
            session.execute(update(Face).where(Face.id.in_(wanted)).values(person_id=created.id))
            source.updated_at = now
            session.flush()
            record_change(session, ChangeKind.MOVE, wanted)
            return SplitResult(
                _reread(session, source.id), _reread(session, created.id), tuple(wanted)
            )

        return run_write(self._sessions, work)


def _lock_pair(session: Session, target_id: int, source_id: int) -> tuple[Person, Person]:
    # Ascending ids: two merges of the same pair in opposite directions cannot deadlock.
    rows = {pid: _get_person(session, pid, lock=True) for pid in sorted((target_id, source_id))}
    return rows[target_id], rows[source_id]


def _face_ids_of(session: Session, person_id: int) -> list[int]:
    query = select(Face.id).where(Face.person_id == person_id).order_by(Face.id)
    return [int(i) for i in session.scalars(query.with_for_update())]


def _fold_fields(target: Person, source: Person) -> tuple[PersonFields, tuple[str, ...]]:
    mine, theirs = _person_fields(target), _person_fields(source)
    filled = tuple(n for n in FILLABLE_FIELDS if mine[n] is None and theirs[n] is not None)
    merged = {**mine, **{n: theirs[n] for n in filled}}
    merged["metadata"] = {**(theirs["metadata"] or {}), **(mine["metadata"] or {})}
    return PersonFields(**merged), filled


def _move_history(session: Session, source_id: int, target_id: int) -> tuple[int, int, int, int]:
    """(events, session summaries, unknown clusters, negative labels) moved to the target."""
    events = _rowcount(
        session.execute(
            update(SessionEvent)
            .where(SessionEvent.person_id == source_id)
            .values(person_id=target_id)
        )
    )
    summaries = _fold_session_people(session, source_id, target_id)
    clusters = _rowcount(
        session.execute(
            update(UnknownCluster)
            .where(UnknownCluster.person_id == source_id)
            .values(person_id=target_id)
        )
    )
    flagged = _rowcount(
        session.execute(
            update(UnknownCluster)
            .where(UnknownCluster.match_person_id == source_id)
            .values(match_person_id=target_id)
        )
    )
    labels = _rowcount(
        session.execute(
            update(NegativeLabel)
            .where(NegativeLabel.person_id == source_id)
            .values(person_id=target_id)
        )
    )
    return events, summaries, clusters + flagged, labels


def _fold_session_people(session: Session, source_id: int, target_id: int) -> int:
    """Re-point the source's per-session summaries at the target. Where both were seen in
    one session the rows are folded into the target's (the key is session + person)."""
    query = select(SessionPerson).where(SessionPerson.person_id == source_id)
    moved = 0
    for row in session.scalars(query.with_for_update()).all():
        mine = session.get(SessionPerson, (row.session_id, target_id), with_for_update=True)
        if mine is None:
            session.execute(
                update(SessionPerson)
                .where(
                    SessionPerson.session_id == row.session_id,
                    SessionPerson.person_id == source_id,
                )
                .values(person_id=target_id)
            )
        else:
            mine.first_seen = min(mine.first_seen, row.first_seen)
            mine.last_seen = max(mine.last_seen, row.last_seen)
            mine.sightings += row.sightings
            mine.best_score = max(float(mine.best_score), float(row.best_score))
            session.delete(row)
        moved += 1
    session.flush()
    session.expire_all()  # rows changed by Core updates above: never read them stale
    return moved


def _check_selection(session: Session, person_id: int, wanted: list[int]) -> None:
    if not all(is_storable_id(i) for i in wanted):
        raise ValidationFailedError("face ids must be positive integers", field="face_ids")
    owners = dict(
        session.execute(
            select(Face.id, Face.person_id).where(Face.id.in_(wanted)).with_for_update()
        ).all()
    )
    missing = [i for i in wanted if i not in owners]
    if missing:
        raise NotFoundError(f"faces not found: {missing}", face_ids=missing)
    others = [i for i in wanted if owners[i] != person_id]
    if others:
        raise ValidationFailedError(
            f"faces {others} are not faces of person {person_id}", field="face_ids"
        )
    total = session.scalar(select(func.count(Face.id)).where(Face.person_id == person_id))
    if len(wanted) >= int(total or 0):
        raise ValidationFailedError(
            "a split must leave the person at least one face (delete or edit the person instead)",
            field="face_ids",
        )


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)

"""Merge and split in the store, on every backend: what moves, what is folded, what stays,
and that a refused split changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from facebank.errors import ConflictError, NotFoundError, ValidationFailedError
from facebank.store.changes import ChangeKind, ChangeLogRepository
from facebank.store.people import FaceRepository, PeopleRepository, PersonFilter
from facebank.store.people_merge import PeopleFixRepository
from facebank.store.tables import (
    LiveSession,
    NegativeLabel,
    SessionEvent,
    SessionPerson,
    UnknownCluster,
)
from tests.store.factories import media_ref, new_face, person

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def fix(sessions: sessionmaker[Session]) -> PeopleFixRepository:
    with sessions.begin() as s:
        for table in ("live_sessions", "unknown_clusters", "negative_labels"):
            s.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
    return PeopleFixRepository(sessions)


def _history(sessions: sessionmaker[Session], a: int, b: int) -> int:
    """A session that saw both (colliding summary rows), a second that saw only B, B's
    events, a cluster named B and one flagged as matching B, and a negative label of B."""
    with sessions.begin() as s:
        rows = [_live(s, key) for key in ("one", "two")]
        for session_id, pid, minute, score in [
            (rows[0], a, 10, 0.6), (rows[0], b, 5, 0.9), (rows[1], b, 20, 0.7)
        ]:  # fmt: skip
            seen = T0 + timedelta(minutes=minute)
            s.add(SessionPerson(session_id=session_id, person_id=pid, first_seen=seen,
                                last_seen=seen, sightings=2, best_score=score))  # fmt: skip
            s.add(
                SessionEvent(
                    event_id=f"evt_{session_id}_{pid}",
                    session_id=session_id,
                    type="recognition",
                    person_id=pid,
                    evidence=False,
                    payload={"data": {"person": {"id": pid}}},
                    created_at=seen,
                )
            )
        s.add(UnknownCluster(status="named", size=0, first_seen=T0, last_seen=T0, person_id=b))
        s.add(UnknownCluster(status="open", size=3, first_seen=T0, last_seen=T0,
                             match_person_id=b, match_score=0.5))  # fmt: skip
        face = new_face(9)
        s.add(
            NegativeLabel(
                person_id=b,
                model_id=face.model_id,
                embedding=face.embedding,
                dim=face.dim,
                box=list(face.box),
                landmarks=list(face.landmarks),
                media_ref=media_ref(9),
                media_type="jpeg",
                created_by="tests",
            )
        )
    return rows[0]


def _live(s: Session, key: str) -> int:
    row = LiveSession(key=key, status="ended", mode="once", threshold=0.5, cooldown_s=0.0,
                      evidence=False)  # fmt: skip
    s.add(row)
    s.flush()
    return int(row.id)


def test_merge_moves_faces_and_history(
    people: PeopleRepository,
    faces: FaceRepository,
    fix: PeopleFixRepository,
    sessions: sessionmaker[Session],
) -> None:
    a, a_faces = people.create(person("Ada", metadata={"k": "a"}), [new_face(1)])
    b, b_faces = people.create(
        person("Ada L.", age=36, external_id="ada-1", metadata={"k": "b", "x": 1}),
        [new_face(2), new_face(3)],
    )
    shared = _history(sessions, a.id, b.id)
    version = ChangeLogRepository(sessions).head().version

    result = fix.merge(a.id, b.id)

    assert result.person.face_count == 3 and result.person.name == "Ada"
    assert (result.person.age, result.person.external_id) == (36, "ada-1")
    assert result.person.metadata == {"k": "a", "x": 1}
    assert result.filled_fields == ("age", "external_id")
    assert (result.session_events, result.session_people) == (2, 2)
    assert (result.unknown_clusters, result.negative_labels) == (2, 1)
    assert sorted(f.id for f in faces.list_for_person(a.id)) == sorted(
        f.id for f in a_faces + b_faces
    )
    with pytest.raises(NotFoundError):
        people.get(b.id)
    changes = ChangeLogRepository(sessions).since(version)
    assert [(c.kind, c.face_ids) for c in changes] == [
        (ChangeKind.MOVE, tuple(sorted(f.id for f in b_faces)))
    ]
    with sessions() as s:
        summary = {r.session_id: r for r in s.scalars(select(SessionPerson))}
        assert {r.person_id for r in summary.values()} == {a.id}
        folded = summary[shared]
        assert (folded.sightings, folded.best_score) == (4, 0.9)
        assert folded.first_seen.replace(tzinfo=UTC) == T0 + timedelta(minutes=5)
        assert folded.last_seen.replace(tzinfo=UTC) == T0 + timedelta(minutes=10)
        events = list(s.scalars(select(SessionEvent)))
        assert {e.person_id for e in events} == {a.id}
        # The payloads are what was sent at the time: untouched.
        assert sorted(e.payload["data"]["person"]["id"] for e in events) == sorted(
            [a.id, b.id, b.id]
        )
        clusters = list(s.scalars(select(UnknownCluster)))
        assert {(c.person_id, c.match_person_id) for c in clusters} == {(a.id, None), (None, a.id)}
        assert [n.person_id for n in s.scalars(select(NegativeLabel))] == [a.id]


def test_merge_refusals(people: PeopleRepository, fix: PeopleFixRepository) -> None:
    a, _ = people.create(person("Ada"), [new_face(1)])
    with pytest.raises(ValidationFailedError):
        fix.merge(a.id, a.id)
    with pytest.raises(NotFoundError):
        fix.merge(a.id, 987_654)
    with pytest.raises(NotFoundError):
        fix.merge(987_654, a.id)
    assert people.get(a.id).face_count == 1


def test_split_moves_the_chosen_faces_only(
    people: PeopleRepository,
    faces: FaceRepository,
    fix: PeopleFixRepository,
    sessions: sessionmaker[Session],
) -> None:
    a, stored = people.create(person("Ada", external_id="ada"), [new_face(i) for i in range(3)])
    other, other_faces = people.create(person("Bob"), [new_face(7)])
    version = ChangeLogRepository(sessions).head().version
    chosen = [stored[0].id, stored[2].id]

    result = fix.split(a.id, chosen, person("Ada (2)", age=20))

    assert result.person.name == "Ada (2)" and result.person.face_count == 2
    assert result.source.face_count == 1 and result.face_ids == tuple(sorted(chosen))
    assert sorted(f.id for f in faces.list_for_person(result.person.id)) == sorted(chosen)
    changes = ChangeLogRepository(sessions).since(version)
    assert [(c.kind, c.face_ids) for c in changes] == [(ChangeKind.MOVE, tuple(sorted(chosen)))]

    left = stored[1].id
    for face_ids, error in [
        ([], ValidationFailedError),
        ([left], ValidationFailedError),  # the last face
        ([other_faces[0].id], ValidationFailedError),  # someone else's
        ([987_654], NotFoundError),
    ]:
        with pytest.raises(error):
            fix.split(a.id, face_ids, person("C"))
    with pytest.raises(ConflictError):  # the new person's external id is taken
        fix.split(result.person.id, chosen[:1], person("C", external_id="ada"))
    assert people.get(a.id).face_count == 1 and people.get(other.id).face_count == 1
    assert people.get(result.person.id).face_count == 2
    assert people.search(PersonFilter(name="C")).total == 0  # no half-made person

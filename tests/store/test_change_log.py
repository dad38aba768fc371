"""The gallery change log: every face change appends a version, in the change's own
transaction, on every backend."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session, sessionmaker

from facebank.errors import NotFoundError
from facebank.store.changes import ChangeKind, ChangeLogRepository, record_change
from facebank.store.coltypes import utcnow
from facebank.store.people import FaceRepository, PeopleRepository, insert_faces
from facebank.store.tables import Face
from facebank.store.tx import run_read, run_write
from tests.store.factories import new_face, person


@pytest.fixture
def changes(sessions: sessionmaker[Session]) -> ChangeLogRepository:
    return ChangeLogRepository(sessions)


def test_every_gallery_change_appends_one_version(
    people: PeopleRepository, faces: FaceRepository, changes: ChangeLogRepository
) -> None:
    start = changes.head().version
    created, (first,) = people.create(person(), [new_face(1)])
    (second,) = faces.add(created.id, [new_face(2)])
    reembedded = replace(new_face(3, model_id="model-b"), media_ref=second.media_ref)
    faces.replace_embedding(second.id, reembedded)
    faces.delete(first.id)
    people.delete(created.id)
    logged = changes.since(start)
    assert [(c.version, c.kind, c.face_ids) for c in logged] == [
        (start + 1, ChangeKind.ADD, (first.id,)),
        (start + 2, ChangeKind.ADD, (second.id,)),
        (start + 3, ChangeKind.REPLACE, (second.id,)),
        (start + 4, ChangeKind.REMOVE, (first.id,)),
        (start + 5, ChangeKind.REMOVE, (second.id,)),
    ]
    assert changes.head().version == start + 5


def test_a_person_without_faces_is_no_gallery_change(
    people: PeopleRepository, changes: ChangeLogRepository
) -> None:
    start = changes.head().version
    created, _ = people.create(person())
    people.delete(created.id)
    assert changes.head().version == start


def test_a_failed_write_leaves_neither_the_face_nor_its_log_row(
    people: PeopleRepository, sessions: sessionmaker[Session], changes: ChangeLogRepository
) -> None:
    """The face rows and the log row commit together or not at all: a crash after both
    were written (here: an error before the commit) leaves the database as it was."""
    created, _ = people.create(person())
    start = changes.head().version

    def crash_before_commit(session: Session) -> None:
        (face,) = insert_faces(session, created.id, [new_face(5)], utcnow())
        record_change(session, ChangeKind.ADD, [face.id])
        raise RuntimeError("the process dies before the commit")

    with pytest.raises(RuntimeError):
        run_write(sessions, crash_before_commit)
    assert changes.head().version == start
    assert changes.since(start) == []
    assert run_read(sessions, lambda s: s.query(Face).count()) == 0


def test_a_refused_add_logs_nothing(faces: FaceRepository, changes: ChangeLogRepository) -> None:
    start = changes.head().version
    with pytest.raises(NotFoundError):
        faces.add(10**12, [new_face(6)])
    assert changes.head().version == start


def test_compaction_keeps_the_newest_and_records_the_cut(
    people: PeopleRepository, changes: ChangeLogRepository
) -> None:
    for seed in range(4):
        people.create(person(), [new_face(10 + seed)])
    head = changes.head()
    assert changes.compact(keep=2) >= 2
    after = changes.head()
    assert (after.version, after.compacted_through) == (head.version, head.version - 2)
    assert [c.version for c in changes.since(0)] == [head.version - 1, head.version]
    assert changes.compact(keep=2) == 0  # nothing more to drop

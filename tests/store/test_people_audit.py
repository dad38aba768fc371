"""Audit entries staged in the transaction of a person's or faces' write, on every backend."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from facebank.store.audit import AuditFilter, AuditRepository, NewAuditEntry
from facebank.store.people import (
    FaceRecord,
    FaceRepository,
    PeopleRepository,
    PersonFields,
    PersonRecord,
)
from tests.store.factories import new_face


def _entry(actor: str, kind: str, target_id: int) -> NewAuditEntry:
    return NewAuditEntry(
        actor_kind="system",
        actor_id=None,
        actor_name=actor,
        action="create",
        target_kind=kind,
        target_id=str(target_id),
        details={},
    )


def _logged(sessions: sessionmaker[Session], actor: str) -> list[tuple[str, str | None]]:
    page = AuditRepository(sessions).page(AuditFilter(actor_name=actor), 0, 100)
    return sorted((e.target_kind, e.target_id) for e in page.items)


def test_create_commits_its_audit_entries_with_it(
    people: PeopleRepository, sessions: sessionmaker[Session]
) -> None:
    actor = uuid.uuid4().hex

    def entries(created: tuple[PersonRecord, list[FaceRecord]]) -> list[NewAuditEntry]:
        person, records = created
        return [_entry(actor, "person", person.id), *(_entry(actor, "face", r.id) for r in records)]

    person, stored = people.create(PersonFields(name="Ada"), [new_face(1), new_face(2)], entries)
    expected = [("face", str(f.id)) for f in stored] + [("person", str(person.id))]
    assert _logged(sessions, actor) == sorted(expected)
    at = AuditRepository(sessions).page(AuditFilter(actor_name=actor), 0, 1).items[0].at
    assert at == person.created_at  # the change's own time


def test_a_failed_create_leaves_no_audit_entry(
    people: PeopleRepository, sessions: sessionmaker[Session]
) -> None:
    actor = uuid.uuid4().hex
    broken = new_face(2)
    # Slip past NewFace's own validation to make the database itself refuse the face.
    object.__setattr__(broken, "model_id", None)
    with pytest.raises(IntegrityError):
        people.create(
            PersonFields(name="Half"), [new_face(1), broken], lambda c: [_entry(actor, "p", 1)]
        )
    assert _logged(sessions, actor) == []


def test_add_commits_its_audit_entries_with_it(
    people: PeopleRepository, faces: FaceRepository, sessions: sessionmaker[Session]
) -> None:
    actor = uuid.uuid4().hex
    person, _ = people.create(PersonFields(name="Ada"), [])

    def entries(records: list[FaceRecord]) -> list[NewAuditEntry]:
        return [_entry(actor, "face", r.id) for r in records]

    stored = faces.add(person.id, [new_face(1), new_face(2)], entries)
    assert _logged(sessions, actor) == sorted(("face", str(f.id)) for f in stored)

"""PeopleRepository on every backend."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from facebank.errors import ConflictError, NotFoundError, ValidationFailedError
from facebank.store.people import FaceRepository, PeopleRepository, PersonFields, PersonFilter
from tests.store.factories import new_face, person


def test_create_returns_records_with_faces(people: PeopleRepository) -> None:
    fields = PersonFields(
        name="Nguyễn Văn An",
        age=31,
        gender="male",
        address="12 Lê Lợi, Huế",
        external_id="class-7/student-3",
        metadata={"class_id": 7, "tags": ["a", "b"], "nested": {"x": 1.5}},
    )
    created, stored = people.create(fields, [new_face(1), new_face(2)])
    assert created.id > 0 and created.face_count == 2
    assert (created.name, created.age, created.gender) == ("Nguyễn Văn An", 31, "male")
    assert created.metadata == {"class_id": 7, "tags": ["a", "b"], "nested": {"x": 1.5}}
    assert created.created_at.tzinfo is UTC and created.updated_at == created.created_at
    assert [f.person_id for f in stored] == [created.id, created.id]
    assert stored[0].id < stored[1].id
    face = stored[0]
    assert face.box == [10.5, 20.25, 110.0, 140.75]
    assert face.landmarks[4] == [65.0, 90.0]
    assert face.det_score == 0.87654321
    assert face.quality == {"face_px": 100, "blur": 123.5, "yaw": -3.25, "pitch": 1.5}

    fetched = people.get(created.id)
    assert fetched == created  # same values after a round trip, timestamps included
    assert fetched.created_at.tzinfo is UTC


def test_create_without_faces_and_get_missing(people: PeopleRepository) -> None:
    created, stored = people.create(PersonFields(name="Solo"), [])
    assert stored == [] and created.face_count == 0 and created.metadata == {}
    with pytest.raises(NotFoundError):
        people.get(created.id + 1000)


def test_create_is_atomic_when_a_face_insert_fails(
    people: PeopleRepository, faces: FaceRepository
) -> None:
    broken = new_face(2)
    # Slip past NewFace's own validation to make the database itself refuse the second face.
    object.__setattr__(broken, "model_id", None)
    with pytest.raises(IntegrityError):
        people.create(PersonFields(name="Half", external_id="half"), [new_face(1), broken])
    assert people.search(PersonFilter(), 0, 10).total == 0
    assert faces.count_by_model() == {}
    # The external id was not consumed by the rolled-back person.
    people.create(PersonFields(name="Whole", external_id="half"), [new_face(1)])


def test_duplicate_external_id_conflicts(people: PeopleRepository) -> None:
    first, _ = people.create(PersonFields(name="A", external_id="ext-1"), [new_face(1)])
    with pytest.raises(ConflictError) as info:
        people.create(PersonFields(name="B", external_id="ext-1"), [new_face(2)])
    assert info.value.details["person_id"] == first.id
    # Keys are case-sensitive on every backend (MySQL collation included).
    people.create(PersonFields(name="C", external_id="EXT-1"), [])
    assert people.search(PersonFilter(), 0, 10).total == 2
    assert people.get_by_external_id("ext-1").id == first.id
    with pytest.raises(NotFoundError):
        people.get_by_external_id("nope")


def test_search_filters_pagination_and_total(people: PeopleRepository) -> None:
    rows = [
        ("Alice Nguyen", 20, "1 Main St, Hanoi"),
        ("alice smith", 35, "2 High St, London"),
        ("Bob Tran", 41, "3 Lê Duẩn, Hà Nội"),
        ("Đặng Thị Alice", None, None),
        ("Carol 100%_done", 28, "4 Elm St, Hanoi"),
    ]
    ids = [
        people.create(PersonFields(name=n, age=a, address=ad, external_id=f"e{i}"), [])[0].id
        for i, (n, a, ad) in enumerate(rows)
    ]

    def names(criteria: PersonFilter, offset: int = 0, limit: int = 50) -> list[str]:
        return [p.name for p in people.search(criteria, offset, limit).items]

    assert names(PersonFilter(q="ALICE")) == ["Alice Nguyen", "alice smith", "Đặng Thị Alice"]
    assert names(PersonFilter(q="đặng")) == ["Đặng Thị Alice"]  # non-ASCII case folding
    assert names(PersonFilter(q="%_")) == ["Carol 100%_done"]  # wildcards are literal
    assert names(PersonFilter(q="_")) == ["Carol 100%_done"]
    assert names(PersonFilter(name="alice nguyen")) == ["Alice Nguyen"]
    assert names(PersonFilter(name="Alice")) == []
    assert names(PersonFilter(age_min=28, age_max=41)) == [
        "alice smith",
        "Bob Tran",
        "Carol 100%_done",
    ]
    assert names(PersonFilter(age_min=30)) == ["alice smith", "Bob Tran"]
    assert names(PersonFilter(address="hanoi")) == ["Alice Nguyen", "Carol 100%_done"]
    assert names(PersonFilter(q="alice", age_max=25)) == ["Alice Nguyen"]
    assert names(PersonFilter(external_id="e2")) == ["Bob Tran"]

    page = people.search(PersonFilter(), offset=1, limit=2)
    assert (page.total, page.offset, page.limit) == (5, 1, 2)
    assert [p.id for p in page.items] == ids[1:3]
    assert [p.id for p in people.search(PersonFilter(), 4, 2).items] == ids[4:]
    assert people.search(PersonFilter(), 10, 2).items == []
    assert people.search(PersonFilter(), 10, 2).total == 5
    assert people.search(PersonFilter(q="alice"), 0, 0).total == 3
    with pytest.raises(ValidationFailedError):
        people.search(PersonFilter(), -1, 10)


def test_named_is_the_people_of_exactly_that_name(people: PeopleRepository) -> None:
    first, _ = people.create(PersonFields(name="Đặng Thị An", metadata={"row": 1}), [new_face(1)])
    people.create(PersonFields(name="Đặng Thị An Nguyễn"), [])  # a longer name: not it
    people.create(PersonFields(name="Lê An"), [])
    second, _ = people.create(PersonFields(name="Đặng Thị An", metadata={"row": 2}), [])
    found = people.named("Đặng Thị An")
    assert [p.id for p in found] == [first.id, second.id]  # every one, in id order
    assert found[0] == people.get(first.id)  # the full record, face count included
    assert people.named("Đặng Thị") == [] and people.named("An") == []
    assert people.named("nobody") == []


def test_search_reports_face_counts(people: PeopleRepository) -> None:
    a, _ = people.create(PersonFields(name="A"), [new_face(1), new_face(2), new_face(3)])
    b, _ = people.create(PersonFields(name="B"), [])
    counts = {p.id: p.face_count for p in people.search(PersonFilter(), 0, 10).items}
    assert counts == {a.id: 3, b.id: 0}
    many = people.get_many({a.id, b.id, b.id + 999})
    assert set(many) == {a.id, b.id} and many[a.id].face_count == 3
    assert people.get_many(set()) == {}


def test_update_is_partial_and_validated(people: PeopleRepository) -> None:
    created, _ = people.create(
        PersonFields(name="Old", age=30, gender="f", address="x", metadata={"k": 1}), []
    )
    updated = people.update(created.id, {"name": "New", "age": None, "metadata": {"j": [1]}})
    assert (updated.name, updated.age, updated.gender, updated.address) == ("New", None, "f", "x")
    assert updated.metadata == {"j": [1]}
    assert updated.updated_at > created.updated_at
    assert updated.created_at == created.created_at
    assert people.get(created.id) == updated

    with pytest.raises(ValidationFailedError):
        people.update(created.id, {"ten": "unknown field"})
    with pytest.raises(ValidationFailedError):
        people.update(created.id, {"name": ""})
    with pytest.raises(ValidationFailedError):
        people.update(created.id, {"name": "x" * 201})
    with pytest.raises(NotFoundError):
        people.update(created.id + 1000, {"name": "Ghost"})
    assert people.get(created.id).name == "New"


def test_update_external_id_conflict(people: PeopleRepository) -> None:
    a, _ = people.create(PersonFields(name="A", external_id="a"), [])
    b, _ = people.create(PersonFields(name="B", external_id="b"), [])
    with pytest.raises(ConflictError):
        people.update(b.id, {"external_id": "a"})
    assert people.update(b.id, {"external_id": "b"}).external_id == "b"  # own key: fine
    assert people.update(a.id, {"external_id": None}).external_id is None
    assert people.update(b.id, {"external_id": "a"}).external_id == "a"


def test_delete_returns_and_removes_faces(people: PeopleRepository, faces: FaceRepository) -> None:
    doomed, doomed_faces = people.create(PersonFields(name="Doomed"), [new_face(1), new_face(2)])
    kept, kept_faces = people.create(PersonFields(name="Kept"), [new_face(3)])
    removed = people.delete(doomed.id)
    assert removed == doomed_faces
    with pytest.raises(NotFoundError):
        people.get(doomed.id)
    with pytest.raises(NotFoundError):
        faces.get(doomed_faces[0].id)
    with pytest.raises(NotFoundError):
        people.delete(doomed.id)
    assert faces.list_for_person(kept.id) == kept_faces
    assert faces.count_by_model() == {"model-a": 1}


def test_database_cascades_person_deletes(
    engine: Engine, people: PeopleRepository, faces: FaceRepository
) -> None:
    # The schema itself (ON DELETE CASCADE, foreign keys on in SQLite) removes the faces.
    created, _ = people.create(PersonFields(name="Raw"), [new_face(1), new_face(2)])
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM people WHERE id = :id"), {"id": created.id})
    assert faces.count_by_model() == {}


def test_person_fields_validation() -> None:
    for bad in (
        {"name": " "},
        {"name": "x", "age": -1},
        {"name": "x", "age": True},
        {"name": "x", "age": 151},
        {"name": "x", "age": "old"},
        {"name": "x", "gender": "g" * 33},
        {"name": "x", "address": "a" * 501},
        {"name": "x", "external_id": ""},
        {"name": "x", "external_id": "e" * 129},
        {"name": "x", "metadata": [1]},
        {"name": "x", "metadata": {"f": float("nan")}},
        {"name": "x", "metadata": {"o": object()}},
        {"name": "x", "unknown_field": 1},
    ):
        with pytest.raises(ValidationFailedError):
            PersonFields(**bad)
    assert person("ok").model_dump()["metadata"] == {}


def test_out_of_range_ids_and_bounds_are_not_server_errors(
    people: PeopleRepository, faces: FaceRepository
) -> None:
    created, _ = people.create(PersonFields(name="Emoji 🙂 名前", age=40), [new_face(1)])
    assert people.get(created.id).name == "Emoji 🙂 名前"  # 4-byte UTF-8 (utf8mb4 on MySQL)
    for bad_id in (0, -1, 2**63, 10**30):
        with pytest.raises(NotFoundError):
            people.get(bad_id)
        with pytest.raises(NotFoundError):
            people.update(bad_id, {"name": "x"})
        with pytest.raises(NotFoundError):
            people.delete(bad_id)
        with pytest.raises(NotFoundError):
            faces.get(bad_id)
        with pytest.raises(NotFoundError):
            faces.add(bad_id, [new_face(2)])
    assert set(people.get_many([created.id, 10**30, -5])) == {created.id}
    huge = PersonFilter(age_min=-(10**30), age_max=10**30)
    assert people.search(huge, 0, 10).total == 1
    assert people.search(PersonFilter(age_min=10**30), 0, 10).total == 0
    with pytest.raises(ValidationFailedError):
        people.search(PersonFilter(), 2**63, 10)

"""FaceRepository on every backend, including exact embedding round trips."""

from __future__ import annotations

import numpy as np
import pytest

from facebank.errors import NotFoundError, ValidationFailedError
from facebank.store.people import FaceRepository, PeopleRepository, PersonFields
from tests.store.factories import DIM, media_ref, new_face, vector


def test_add_get_list_delete(people: PeopleRepository, faces: FaceRepository) -> None:
    created, first = people.create(PersonFields(name="P"), [new_face(1)])
    added = faces.add(created.id, [new_face(2), new_face(3, model_id="model-b")])
    assert [f.person_id for f in added] == [created.id, created.id]
    assert faces.get(added[0].id) == added[0]
    assert faces.list_for_person(created.id) == first + added
    person_after = people.get(created.id)
    assert person_after.face_count == 3
    assert person_after.updated_at > created.updated_at

    removed = faces.delete(added[0].id)
    assert removed == added[0]
    with pytest.raises(NotFoundError):
        faces.get(added[0].id)
    with pytest.raises(NotFoundError):
        faces.delete(added[0].id)
    assert [f.id for f in faces.list_for_person(created.id)] == [first[0].id, added[1].id]


def test_add_to_unknown_person(people: PeopleRepository, faces: FaceRepository) -> None:
    created, _ = people.create(PersonFields(name="P"), [])
    with pytest.raises(NotFoundError):
        faces.add(created.id + 1000, [new_face(1)])
    with pytest.raises(NotFoundError):
        faces.list_for_person(created.id + 1000)
    with pytest.raises(NotFoundError):
        faces.embeddings_for_person(created.id + 1000, "model-a")
    assert faces.count_by_model() == {}


def test_embeddings_round_trip_exactly(people: PeopleRepository, faces: FaceRepository) -> None:
    # Awkward float32 values (denormals, extremes, negative zero) must come back bit for bit.
    special = np.array(
        [1e-45, -0.0, 3.4028235e38, -1.1754944e-38, np.pi, 1 / 3] + [0.5] * (DIM - 6),
        dtype=np.float32,
    )
    face = new_face(0)
    object.__setattr__(face, "embedding", special.tobytes())
    a, stored_a = people.create(PersonFields(name="A"), [face, new_face(1)])
    b, stored_b = people.create(PersonFields(name="B"), [new_face(2), new_face(3, "model-b")])

    ids, vectors = faces.embeddings_for_person(a.id, "model-a")
    assert ids.dtype == np.int64 and vectors.dtype == np.float32
    assert ids.tolist() == [f.id for f in stored_a]
    assert vectors.tobytes() == special.tobytes() + vector(1).tobytes()
    vectors[0, 0] = 7.0  # writable, e.g. for in-place normalisation

    batches = list(faces.iter_embeddings("model-a", batch=2))
    assert [len(batch[0]) for batch in batches] == [2, 1]
    face_ids = np.concatenate([batch[0] for batch in batches])
    person_ids = np.concatenate([batch[1] for batch in batches])
    all_vectors = np.concatenate([batch[2] for batch in batches])
    assert face_ids.tolist() == [stored_a[0].id, stored_a[1].id, stored_b[0].id]
    assert person_ids.tolist() == [a.id, a.id, b.id]
    assert all_vectors.shape == (3, DIM)
    assert all_vectors.tobytes() == special.tobytes() + vector(1).tobytes() + vector(2).tobytes()

    assert list(faces.iter_embeddings("no-such-model")) == []
    assert faces.face_ids("model-a").tolist() == face_ids.tolist()
    assert faces.face_ids("model-b").tolist() == [stored_b[1].id]
    assert faces.face_ids("none").dtype == np.int64
    assert faces.count_by_model() == {"model-a": 3, "model-b": 1}

    fetched_ids, fetched_people, fetched = faces.fetch_embeddings(
        [stored_b[1].id, stored_a[1].id, 10**9]
    )
    assert fetched_ids.tolist() == [stored_a[1].id, stored_b[1].id]
    assert fetched_people.tolist() == [a.id, b.id]
    assert fetched.tobytes() == vector(1).tobytes() + vector(3).tobytes()
    empty = faces.fetch_embeddings([])
    assert empty[0].size == 0 and empty[2].shape == (0, 0)


def test_iter_embeddings_streams_many_in_order(
    people: PeopleRepository, faces: FaceRepository
) -> None:
    created, _ = people.create(PersonFields(name="Many"), [new_face(i) for i in range(250)])
    seen = [batch for batch in faces.iter_embeddings("model-a", batch=100)]
    assert [len(b[0]) for b in seen] == [100, 100, 50]
    ids = np.concatenate([b[0] for b in seen])
    assert np.all(np.diff(ids) > 0)
    expected = np.stack([vector(i) for i in range(250)])
    assert np.array_equal(np.concatenate([b[2] for b in seen]), expected)
    assert set(np.concatenate([b[1] for b in seen]).tolist()) == {created.id}
    with pytest.raises(ValidationFailedError):
        next(faces.iter_embeddings("model-a", batch=0))


def test_media_refs(people: PeopleRepository, faces: FaceRepository) -> None:
    a, _ = people.create(PersonFields(name="A"), [new_face(1), new_face(2)])
    _, stored = people.create(PersonFields(name="B"), [new_face(1)])  # same photo as A's first
    assert faces.all_media_refs() == {media_ref(1), media_ref(2)}
    assert faces.media_ref_in_use(media_ref(1))
    assert not faces.media_ref_in_use(media_ref(9))
    wanted = [media_ref(2), media_ref(9), media_ref(1), media_ref(2)]
    assert faces.media_refs_in_use(wanted) == {media_ref(1), media_ref(2)}
    assert faces.media_refs_in_use([]) == set()
    people.delete(a.id)
    assert faces.media_ref_in_use(media_ref(1))  # still used by B
    assert not faces.media_ref_in_use(media_ref(2))
    faces.delete(stored[0].id)
    assert faces.all_media_refs() == set()
    with pytest.raises(ValidationFailedError):
        faces.media_ref_in_use("../../etc/passwd")
    with pytest.raises(ValidationFailedError):
        faces.media_refs_in_use([media_ref(1), "../../etc/passwd"])

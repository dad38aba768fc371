"""NegativeCache: another worker's label is seen within refresh_s (a stepped clock stands in
for time), a change through this process at once, and a database outage keeps the last."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.errors import NotFoundError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.negative_search import NegativeCache
from facebank.store.db import make_engine, make_session_factory, migrate
from facebank.store.media import media_ref
from facebank.store.negatives import FaceGeometry, NegativeRepository, NewNegative
from facebank.store.people import PeopleRepository, PersonFields
from facebank.store.people_merge import PeopleFixRepository
from facebank.store.vectors import encode_embedding
from tests.api.test_negatives import STRANGER

REFRESH_S = 2.0


class SteppedClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _label(pipeline: FacePipeline) -> NewNegative:
    data = STRANGER.read_bytes()
    face = pipeline.analyze(data, 1)[1][0]
    rounded = face.detection.rounded()
    geometry = FaceGeometry(
        pipeline.model_id,
        encode_embedding(face.embedding),
        int(face.embedding.size),
        rounded.box,
        rounded.landmarks,
    )
    return NewNegative(geometry, media_ref(data), "jpeg", "tests")


def test_the_bound_and_own_writes(tmp_path: Path, face_pipeline: FacePipeline) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    person = PeopleRepository(sessions).create(PersonFields(name="B"))[0].id
    repo = NegativeRepository(sessions)
    clock = SteppedClock()
    cache = NegativeCache(repo, face_pipeline.model_id, REFRESH_S, clock)
    assert cache.current().by_person == {}

    other_worker = NegativeRepository(sessions)
    added = other_worker.add(person, _label(face_pipeline))
    clock.now += REFRESH_S / 2
    assert cache.current().by_person == {}  # not checked again yet: within the bound
    clock.now += REFRESH_S / 2
    assert list(cache.current().by_person) == [person]  # at the bound: seen

    other_worker.delete(person, added.id)
    cache.refresh()  # as NegativeService does after its own change
    assert cache.current().by_person == {}

    repo.add(person, _label(face_pipeline))
    cache.refresh()
    engine.dispose()
    (tmp_path / "db.sqlite").unlink()  # the database is gone: filtering goes on as it was
    clock.now += REFRESH_S
    assert list(cache.current().by_person) == [person]


def test_labels_of_another_model_are_not_loaded(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    person = PeopleRepository(sessions).create(PersonFields(name="B"))[0].id
    NegativeRepository(sessions).add(person, _label(face_pipeline))
    cache = NegativeCache(NegativeRepository(sessions), "another-pack", REFRESH_S)
    assert cache.current().by_person == {}
    with pytest.raises(NotFoundError):
        NegativeRepository(sessions).list_for_person(person + 1)


def test_a_merge_moving_labels_is_seen(tmp_path: Path, face_pipeline: FacePipeline) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    sessions = make_session_factory(engine)
    people = PeopleRepository(sessions)
    target, source = (people.create(PersonFields(name=n))[0].id for n in ("B", "B again"))
    NegativeRepository(sessions).add(source, _label(face_pipeline))
    clock = SteppedClock()
    cache = NegativeCache(NegativeRepository(sessions), face_pipeline.model_id, REFRESH_S, clock)
    assert list(cache.current().by_person) == [source]
    PeopleFixRepository(sessions).merge(target, source)  # count and ids stay as they were
    clock.now += REFRESH_S
    assert list(cache.current().by_person) == [target]

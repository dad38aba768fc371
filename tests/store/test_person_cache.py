"""The people cache of the recognition lookup (store/person_cache.py), on every backend: a
commit here empties it, another process's commit shows within its time to live."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from facebank.store.db import make_engine, make_session_factory
from facebank.store.people import FaceRepository, PeopleRepository
from facebank.store.person_cache import PersonCache
from tests.store.factories import new_face, person

TTL_S = 2.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def own_engine(engine: Engine) -> Iterator[Engine]:
    """An engine of its own on the test database, so the cache's listener goes with it."""
    mine = make_engine(engine.url.render_as_string(hide_password=False), pool_size=2)
    yield mine
    mine.dispose()


@pytest.fixture
def cache(own_engine: Engine, clock: Clock) -> PersonCache:
    cache = PersonCache(TTL_S, clock=clock)
    cache.clear_on_commit(own_engine)
    return cache


@pytest.fixture
def cached(own_engine: Engine, cache: PersonCache) -> PeopleRepository:
    return PeopleRepository(make_session_factory(own_engine), cache)


@pytest.fixture
def statements(own_engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(own_engine, "before_cursor_execute", record)
    return seen


def _selects(statements: list[str]) -> int:
    return sum(s.lstrip().upper().startswith("SELECT") for s in statements)


def test_people_read_once_are_then_answered_without_a_query(
    cached: PeopleRepository, statements: list[str]
) -> None:
    ada, _ = cached.create(person("Ada"), [new_face(1)])
    bob, _ = cached.create(person("Bob"), [])
    assert cached.get_many([ada.id, bob.id]) == {ada.id: ada, bob.id: bob}
    statements.clear()
    assert cached.get_many([ada.id, bob.id, ada.id + bob.id + 1000]) == {
        ada.id: ada,
        bob.id: bob,
    }
    # The id that does not exist is asked for; the two cached people are not.
    assert _selects(statements) == 1
    statements.clear()
    assert cached.get_many([bob.id]) == {bob.id: bob}
    assert _selects(statements) == 0


def test_a_commit_in_this_process_empties_it(
    cached: PeopleRepository, sessions: Any, own_engine: Engine
) -> None:
    ada, _ = cached.create(person("Ada"), [new_face(1)])
    assert cached.get_many([ada.id])[ada.id].name == "Ada"
    renamed = cached.update(ada.id, {"name": "Ada King"})
    assert cached.get_many([ada.id]) == {ada.id: renamed}
    # A writer that is not this repository, on the same engine: a face added.
    FaceRepository(make_session_factory(own_engine)).add(ada.id, [new_face(2)])
    assert cached.get_many([ada.id])[ada.id].face_count == 2
    cached.delete(ada.id)
    assert cached.get_many([ada.id]) == {}


def test_another_processes_commit_shows_within_the_time_to_live(
    cached: PeopleRepository, people: PeopleRepository, clock: Clock
) -> None:
    ada, _ = cached.create(person("Ada"), [])
    assert cached.get_many([ada.id])[ada.id].name == "Ada"
    people.update(ada.id, {"name": "Ada King"})  # another engine: no listener of ours
    clock.now += TTL_S - 0.1
    assert cached.get_many([ada.id])[ada.id].name == "Ada"
    clock.now += 0.2
    assert cached.get_many([ada.id])[ada.id].name == "Ada King"


def test_a_read_from_before_a_commit_is_not_kept(people: PeopleRepository, clock: Clock) -> None:
    ada, _ = people.create(person("Ada"), [])
    cache = PersonCache(TTL_S, clock=clock)
    before = cache.generation
    cache.clear()  # what a commit does while the read is under way
    cache.put([ada], before)
    assert cache.get([ada.id]) == {}
    cache.put([ada], cache.generation)
    assert cache.get([ada.id]) == {ada.id: ada}


def test_past_its_size_the_oldest_read_go_first(people: PeopleRepository, clock: Clock) -> None:
    made = [people.create(person(f"P{i}"), [])[0] for i in range(3)]
    cache = PersonCache(TTL_S, max_entries=2, clock=clock)
    cache.put(made[:2], cache.generation)
    cache.put(made[2:], cache.generation)
    assert cache.get(p.id for p in made) == {made[1].id: made[1], made[2].id: made[2]}

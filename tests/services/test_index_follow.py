"""Two service containers over one database (as `serve --workers 2` runs): each index takes
in the gallery changes the other one made."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from facebank.auth.principal import system_principal
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.services.photos import FaceChoice, Photo
from facebank.store.people import PersonFields
from tests.api.conftest import make_settings
from tests.conftest import identity_photos
from tests.dbservers import fresh_database

FOLLOW_S = 0.2
TESTS = system_principal("tests")


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_workers(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[Services, Services]]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'shared.db'}"
        else:
            url = stack.enter_context(fresh_database("postgresql"))
        workers = []
        for name in ("a", "b"):
            settings = make_settings(tmp_path / name, url, index_follow_interval_s=FOLLOW_S)
            services = build_services(settings, pipeline=face_pipeline)
            stack.callback(services.close)
            services.start()
            workers.append(services)
        yield workers[0], workers[1]


def _best_person(services: Services, photo: Path) -> int | None:
    result = services.recognition.recognize(photo.read_bytes(), 1, None, 1)
    match = result.faces[0].match
    return None if match is None else match.person.id


def test_an_enroll_and_a_delete_through_one_worker_reach_the_other(
    two_workers: tuple[Services, Services],
) -> None:
    a, b = two_workers
    identity, photos = next(iter(identity_photos().items()))
    person, _ = a.gallery.create_person(
        TESTS,
        PersonFields(name=identity),
        [Photo(photos[0].read_bytes(), photos[0].name)],
        FaceChoice.LARGEST,
    )
    assert _until(lambda: b.index.status().consistent and b.index.size[0] == 1)
    assert _best_person(b, photos[1]) == person.id
    assert b.index.status().last_sync_kind == "follow"

    a.gallery.delete_person(TESTS, person.id)
    assert _until(lambda: b.index.size[0] == 0)
    assert b.index.status().consistent
    assert _best_person(b, photos[1]) is None


def test_follow_changes_nothing_when_the_index_already_agrees(
    two_workers: tuple[Services, Services],
) -> None:
    a, _ = two_workers
    assert a.index.follow() is False

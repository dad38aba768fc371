"""Two service containers over one database (as `serve --workers 2` runs): each index takes
in the gallery changes the other one made, from the database's change log."""

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
from tests.api.conftest import make_settings, running_services
from tests.conftest import identity_photos
from tests.dbservers import fresh_database
from tests.services.restore_helpers import export, imported_gallery, restore
from tests.waiting import wait_until

FOLLOW_S = 0.2
TESTS = system_principal("tests")


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


WORKER_BACKENDS = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=WORKER_BACKENDS)
def two_workers(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[Services, Services]]:
    yield from _workers(request.param, tmp_path, face_pipeline, FOLLOW_S)


@pytest.fixture(params=WORKER_BACKENDS)
def still_workers(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[Services, Services]]:
    """Two workers that follow only when the test says so."""
    yield from _workers(request.param, tmp_path, face_pipeline, 0)


def _workers(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline, follow_s: float
) -> Iterator[tuple[Services, Services]]:
    with ExitStack() as stack:
        if kind == "sqlite":
            url = f"sqlite:///{tmp_path / 'shared.db'}"
        else:
            url = stack.enter_context(fresh_database(kind))
        workers = []
        for name in ("a", "b"):
            settings = make_settings(tmp_path / name, url, index_follow_interval_s=follow_s)
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


def _enroll(services: Services, name: str, photo: Path) -> int:
    person, _ = services.gallery.create_person(
        TESTS, PersonFields(name=name), [Photo(photo.read_bytes(), photo.name)], FaceChoice.LARGEST
    )
    return person.id


def test_a_reused_face_id_cannot_hide_a_change(still_workers: tuple[Services, Services]) -> None:
    """Delete a person and enroll another between two follows: SQLite hands the new face
    the deleted one's id (the largest rowid is reused), so face count and ids are what
    they were; the log still names the change, and the follower serves the new person."""
    a, b = still_workers
    (first, first_photos), (second, second_photos) = list(identity_photos().items())[:2]
    gone = _enroll(a, first, first_photos[0])
    assert b.index.follow() is True
    ids_before = b.index.index.face_ids()
    a.gallery.delete_person(TESTS, gone)
    kept = _enroll(a, second, second_photos[0])
    if a.settings.effective_database_url.startswith("sqlite"):
        assert a.index.index.face_ids().tolist() == ids_before.tolist()  # the id came back
    assert b.index.lag().current is False
    assert b.index.follow() is True
    assert b.index.lag().current and b.index.status().consistent
    assert _best_person(b, second_photos[1]) == kept
    assert _best_person(b, first_photos[1]) is None


def test_a_follower_replays_only_the_changes_after_its_version(
    still_workers: tuple[Services, Services],
) -> None:
    a, b = still_workers
    photos = list(identity_photos().items())[:3]
    for name, person_photos in photos:
        _enroll(a, name, person_photos[0])
    before = b.index.lag()
    assert (before.applied_version, before.db_version) == (0, 3)
    assert b.index.follow() is True
    assert b.index.lag().applied_version == 3 and b.index.size[0] == 3
    assert b.index.follow() is False  # nothing after version 3


def test_a_restore_by_another_process_reaches_a_running_server(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    model = face_pipeline.model_id
    with imported_gallery("sqlite", tmp_path / "source") as original:
        archive = export(original, model, tmp_path / "gallery.zip")
    data = tmp_path / "server"
    with running_services(
        "sqlite", data, face_pipeline, index_follow_interval_s=FOLLOW_S
    ) as server:
        summary = restore(server.settings, model, archive)
        wait_until(lambda: server.index.size[0] == summary.faces, 30, "the index follow")
        wait_until(lambda: server.index.lag().current, 30, "the applied version")
        assert server.index.status().consistent
        assert server.index.status().last_sync_kind == "follow"


@pytest.mark.postgres
def test_postgresql_wakes_a_follower_at_once_by_notify(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    """The poll is a minute away, so only the NOTIFY of the writing transaction can bring
    the enroll to the other worker within the wait."""
    with ExitStack() as stack:
        slow = _workers("postgresql", tmp_path, face_pipeline, follow_s=60.0)
        a, b = next(slow)
        stack.callback(slow.close)
        name, photos = next(iter(identity_photos().items()))
        wait_until(lambda: b._listener is not None and b._listener.is_alive(), 10, "listener")
        person = _enroll(a, name, photos[0])
        wait_until(lambda: b.index.size[0] == 1, 20, "the NOTIFY to wake the follower")
        assert _best_person(b, photos[1]) == person


def test_a_follower_behind_the_compacted_log_rebuilds(
    still_workers: tuple[Services, Services],
) -> None:
    a, b = still_workers
    photos = list(identity_photos().items())[:3]
    people = [_enroll(a, name, person_photos[0]) for name, person_photos in photos]
    assert a.index.compact_log(keep=1) == 2  # b, at version 0, cannot replay 1 and 2
    assert b.index.follow() is True
    assert b.index.lag().current and b.index.size[0] == 3
    assert [_best_person(b, person_photos[1]) for _, person_photos in photos] == people

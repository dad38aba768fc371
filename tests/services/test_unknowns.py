"""Keeping unknown faces through the service, on real photos: clusters per stranger, one
cluster under concurrent keeps, the vectors rebuilt at start, retention and flagging."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from facebank.auth.principal import system_principal
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.services.photos import FaceChoice, Photo
from facebank.sessions.unknown_sink import KeptUnknown, UnknownSighting, crop_around
from facebank.store.people import PersonFields
from facebank.store.unknown_records import ClusterFilter, ClusterOrder
from tests.api.conftest import make_settings, running_services
from tests.conftest import identity_photos
from tests.dbservers import fresh_database
from tests.waiting import wait_until

TESTS = system_principal("tests")
# Chosen from ../shared/faces: every pair of each one's photos scores above the link.
STRANGER_A = "deepface_id01"  # 8 photos
STRANGER_B = "deepface_id06"  # 5 photos


class SettableClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def services(
    tmp_path: Path, face_pipeline: FacePipeline, clock: SettableClock
) -> Iterator[Services]:
    with running_services(
        "sqlite", tmp_path, face_pipeline, clock=clock, unknown_flag_interval_s=0
    ) as running:
        yield running


def keep_photo(services: Services, photo: Path, seen_at: datetime) -> KeptUnknown:
    image, faces = services.pipeline.analyze(photo.read_bytes(), 1)
    crop, face = crop_around(image, faces[0])
    kept = services.unknowns.keeper.keep(UnknownSighting(crop, face, seen_at, "session", 1, 2))
    assert kept is not None
    return kept


def open_sizes(services: Services) -> list[int]:
    page = services.unknowns.keeper.clusters(ClusterFilter(), ClusterOrder.LARGEST, 0, 50)
    return [c.cluster.size for c in page.items]


def test_two_strangers_make_two_clusters(services: Services, clock: SettableClock) -> None:
    photos = identity_photos()
    kept_a = [keep_photo(services, p, clock.now) for p in photos[STRANGER_A]]
    kept_b = [keep_photo(services, p, clock.now) for p in photos[STRANGER_B]]
    assert len({k.cluster_id for k in kept_a}) == 1 and len({k.cluster_id for k in kept_b}) == 1
    assert kept_a[0].cluster_id != kept_b[0].cluster_id
    assert open_sizes(services) == [8, 5]
    assert kept_a[0].created and not kept_a[-1].created and kept_a[-1].cluster_size == 8
    view = services.unknowns.keeper.cluster(kept_b[0].cluster_id)
    assert view.cluster.representative_face_id == view.faces[0].id
    assert services.unknowns.keeper.crop(view.faces[0].id).path.is_file()


def test_concurrent_keeps_of_one_stranger_make_one_cluster(
    services: Services, clock: SettableClock
) -> None:
    photos = identity_photos()[STRANGER_A]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def keep_half(half: list[Path]) -> None:
        try:
            start.wait()
            for photo in half:
                keep_photo(services, photo, clock.now)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=keep_half, args=(photos[i::2],)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert open_sizes(services) == [8]


def test_a_restart_rebuilds_the_vectors(
    tmp_path: Path, face_pipeline: FacePipeline, clock: SettableClock
) -> None:
    photos = identity_photos()[STRANGER_B]
    with running_services("sqlite", tmp_path, face_pipeline, unknown_flag_interval_s=0) as first:
        for photo in photos[:3]:
            keep_photo(first, photo, clock.now)
    with running_services("sqlite", tmp_path, face_pipeline, unknown_flag_interval_s=0) as again:
        assert again.unknowns.keeper.vectors.size == 3
        kept = keep_photo(again, photos[3], clock.now)
        assert kept.cluster_size == 4 and open_sizes(again) == [4]


def test_retention_removes_rows_crops_and_vectors(services: Services, clock: SettableClock) -> None:
    photos = identity_photos()
    old = [keep_photo(services, p, clock.now - timedelta(days=8)) for p in photos[STRANGER_A][:3]]
    new = keep_photo(services, photos[STRANGER_B][0], clock.now)
    keeper = services.unknowns.keeper
    old_files = [keeper.crop(k.face_id).path for k in old]

    assert services.unknowns.upkeep.sweep(clock.now) == 3
    assert not any(path.exists() for path in old_files)
    assert keeper.vectors.size == 1
    assert open_sizes(services) == [1]
    assert keeper.crop(new.face_id).path.is_file()
    assert services.unknowns.upkeep.sweep(clock.now + timedelta(days=8)) == 1
    assert keeper.vectors.size == 0 and open_sizes(services) == []


def test_a_cluster_matching_a_newly_enrolled_person_is_flagged(
    services: Services, clock: SettableClock
) -> None:
    photos = identity_photos()[STRANGER_B]
    kept = [keep_photo(services, p, clock.now) for p in photos[:4]]
    assert services.unknowns.upkeep.flag() == 0  # nobody enrolled yet
    person, _ = services.gallery.create_person(
        TESTS, PersonFields(name="B"), [Photo(photos[4].read_bytes())], FaceChoice.AUTO
    )
    assert services.unknowns.upkeep.flag() == 1
    cluster = services.unknowns.keeper.cluster(kept[0].cluster_id).cluster
    assert cluster.match_person_id == person.id and cluster.match_score is not None
    assert cluster.match_score >= services.calibration.thresholds.current()
    assert cluster.size == 4  # flagged, not merged
    assert services.unknowns.upkeep.flag() == 0  # nothing new


WORKER_BACKENDS = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=WORKER_BACKENDS)
def two_workers(
    request: pytest.FixtureRequest, tmp_path: Path, face_pipeline: FacePipeline
) -> Iterator[tuple[Services, Services]]:
    """Two containers over one database, as `serve --workers 2` or two machines run."""
    with ExitStack() as stack:
        kind = request.param
        url = (
            f"sqlite:///{tmp_path / 'shared.db'}"
            if kind == "sqlite"
            else stack.enter_context(fresh_database(kind))
        )
        workers = []
        for name in ("a", "b"):
            settings = make_settings(tmp_path / name, url, unknown_flag_interval_s=0)
            services = build_services(settings, pipeline=face_pipeline)
            stack.callback(services.close)
            services.start()
            workers.append(services)
        yield workers[0], workers[1]


def test_workers_cluster_together_and_drop_each_others_deletes(
    two_workers: tuple[Services, Services], clock: SettableClock
) -> None:
    a, b = two_workers
    photos = identity_photos()[STRANGER_A]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def keep_on(worker: Services, half: list[Path]) -> None:
        try:
            start.wait()
            for photo in half:
                keep_photo(worker, photo, clock.now)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=keep_on, args=(worker, photos[i:6:2]))
        for i, worker in enumerate((a, b))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert open_sizes(a) == [6]

    cluster = a.unknowns.keeper.cluster(open_clusters_of(a)[0])
    for face in cluster.faces[:2]:
        a.unknowns.actions.delete_face(TESTS, face.id)
    kept = keep_photo(b, photos[6], clock.now)  # b finds two neighbours gone: drops them
    assert kept.cluster_size == 5
    assert b.unknowns.keeper.vectors.size == 5 and open_sizes(b) == [5]


def open_clusters_of(services: Services) -> list[int]:
    page = services.unknowns.keeper.clusters(ClusterFilter(), ClusterOrder.LARGEST, 0, 50)
    return [c.cluster.id for c in page.items]


def test_the_upkeep_loop_flags_by_itself(
    tmp_path: Path, face_pipeline: FacePipeline, clock: SettableClock
) -> None:
    photos = identity_photos()[STRANGER_B]
    with running_services(
        "sqlite", tmp_path, face_pipeline, unknown_flag_interval_s=0.05
    ) as services:
        kept = keep_photo(services, photos[0], clock.now)
        person, _ = services.gallery.create_person(
            TESTS, PersonFields(name="B"), [Photo(photos[1].read_bytes())], FaceChoice.AUTO
        )

        def flagged() -> bool:
            cluster = services.unknowns.keeper.cluster(kept.cluster_id).cluster
            return cluster.match_person_id == person.id

        wait_until(flagged, timeout=10, what="the cluster flagged by the upkeep loop")


def test_a_cluster_marked_not_that_person_is_unflagged(
    services: Services, clock: SettableClock
) -> None:
    photos = identity_photos()[STRANGER_B]
    kept = [keep_photo(services, p, clock.now) for p in photos[:4]]
    person, _ = services.gallery.create_person(
        TESTS, PersonFields(name="B"), [Photo(photos[4].read_bytes())], FaceChoice.AUTO
    )
    assert services.unknowns.upkeep.flag() == 1
    for face in kept:
        services.negatives.add_from_unknown(TESTS, person.id, face.face_id)
    # The labels alone changed: the round is not skipped, and the flag goes.
    assert services.unknowns.upkeep.flag() == 1
    cluster = services.unknowns.keeper.cluster(kept[0].cluster_id).cluster
    assert cluster.match_person_id is None and cluster.match_score is None

"""FACEBANK_INDEX_BACKEND=pgvector through the services: two workers share one vector table,
so an enroll on one is searchable on the other at once; a table out of step with the database
is repaired at start; a rebuild refills it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from facebank.auth.principal import system_principal
from facebank.index.pgvector_index import PgVectorIndex
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.services.photos import FaceChoice, Photo
from facebank.store.people import PersonFields
from tests.api.conftest import make_settings
from tests.conftest import identity_photos
from tests.vectorpg import fresh_vector_database

pytestmark = pytest.mark.vector
TESTS = system_principal("tests")


@pytest.fixture
def engine_url(vector_url: str) -> Iterator[str]:
    with fresh_vector_database(vector_url) as url:
        yield url


def _worker(stack: ExitStack, data_dir: Path, db_url: str, engine_url: str,
            pipeline: FacePipeline) -> Services:  # fmt: skip
    # No following: whatever the other worker sees comes through the shared table.
    settings = make_settings(
        data_dir, db_url, index_follow_interval_s=0,
        index_backend="pgvector", vector_url=engine_url,
    )  # fmt: skip
    services = build_services(settings, pipeline=pipeline)
    stack.callback(services.close)
    services.start()
    return services


def _best_person(services: Services, photo: Path) -> int | None:
    match = services.recognition.recognize(photo.read_bytes(), 1, None, 1).faces[0].match
    return None if match is None else match.person.id


def test_two_workers_share_the_engine(
    tmp_path: Path, engine_url: str, face_pipeline: FacePipeline
) -> None:
    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    (identity, photos), (other, other_photos) = list(identity_photos().items())[:2]
    with ExitStack() as stack:
        a = _worker(stack, tmp_path / "a", db_url, engine_url, face_pipeline)
        b = _worker(stack, tmp_path / "b", db_url, engine_url, face_pipeline)
        person, _ = a.gallery.create_person(
            TESTS, PersonFields(name=identity), [Photo(photos[0].read_bytes(), photos[0].name)],
            FaceChoice.LARGEST,
        )  # fmt: skip
        assert _best_person(b, photos[1]) == person.id
        assert b.index.status().consistent
        a.gallery.delete_person(TESTS, person.id)
        assert _best_person(b, photos[1]) is None
        b.gallery.create_person(
            TESTS, PersonFields(name=other),
            [Photo(other_photos[0].read_bytes(), other_photos[0].name)], FaceChoice.LARGEST,
        )  # fmt: skip
        status = a.index.rebuild()
        assert (status.index_size, status.consistent) == (1, True)


def test_a_table_out_of_step_is_repaired_at_start(
    tmp_path: Path, engine_url: str, face_pipeline: FacePipeline
) -> None:
    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    identity, photos = next(iter(identity_photos().items()))
    with ExitStack() as stack:
        a = _worker(stack, tmp_path / "a", db_url, engine_url, face_pipeline)
        person, faces = a.gallery.create_person(
            TESTS, PersonFields(name=identity),
            [Photo(p.read_bytes(), p.name) for p in photos[:2]], FaceChoice.LARGEST,
        )  # fmt: skip
        # The engine loses a face behind facebank's back (a restore of the vector server).
        engine = PgVectorIndex(engine_url, face_pipeline.dim, face_pipeline.model_id)
        assert engine.remove([faces[0].id]) == 1
        engine.close()
    with ExitStack() as stack:
        again = _worker(stack, tmp_path / "a", db_url, engine_url, face_pipeline)
        status = again.index.status()
        assert (status.consistent, status.index_size, status.last_sync_kind) == (
            True, 2, "engine+repair",
        )  # fmt: skip
        assert _best_person(again, photos[2]) == person.id

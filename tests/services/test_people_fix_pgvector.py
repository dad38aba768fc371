"""Merge and split with FACEBANK_INDEX_BACKEND=pgvector: the shared vector table re-files
the moved faces under their new person, so recognition follows them at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from facebank.auth.principal import system_principal
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.services.photos import Photo
from facebank.store.people import PersonFields
from tests.api.conftest import make_settings
from tests.conftest import identity_photos
from tests.vectorpg import fresh_vector_database

pytestmark = pytest.mark.vector
TESTS = system_principal("tests")


@pytest.fixture
def worker(tmp_path: Path, vector_url: str, face_pipeline: FacePipeline) -> Iterator[Services]:
    with fresh_vector_database(vector_url) as url:
        settings = make_settings(
            tmp_path, "", index_follow_interval_s=0, index_backend="pgvector", vector_url=url
        )
        services = build_services(settings, pipeline=face_pipeline)
        services.start()
        try:
            yield services
        finally:
            services.close()


def _enroll(services: Services, name: str, photos: list[Path]) -> tuple[int, list[int]]:
    person, faces = services.gallery.create_person(
        TESTS, PersonFields(name=name), [Photo(p.read_bytes(), p.name) for p in photos],
        allow_duplicate=True,
    )  # fmt: skip
    return person.id, [f.id for f in faces]


def _best(services: Services, photo: Path) -> int | None:
    match = services.recognition.recognize(photo.read_bytes(), 1, None, 1).faces[0].match
    return None if match is None else match.person.id


def _engine_holds_db(services: Services) -> bool:
    ids = services.faces.face_ids(services.index.model_id)
    db_ids, db_people, _ = services.faces.fetch_embeddings(ids.tolist())
    ix_ids, ix_people, _ = services.index.index.entries(db_ids)
    return np.array_equal(ix_ids, db_ids) and np.array_equal(ix_people, db_people)


def test_merge_and_split_refile_faces_in_the_engine(worker: Services) -> None:
    obama = identity_photos()["fr_obama"]
    a, _ = _enroll(worker, "Barack Obama", obama[:2])
    b, b_faces = _enroll(worker, "B. Obama", obama[2:4])
    assert _best(worker, obama[2]) == b

    merged = worker.people_fix.merge(TESTS, a, b)
    assert merged.face_count == 4
    assert _best(worker, obama[2]) == a and _engine_holds_db(worker)

    created, faces = worker.people_fix.split(TESTS, a, b_faces, PersonFields(name="C"))
    assert sorted(f.id for f in faces) == sorted(b_faces)
    assert _best(worker, obama[3]) == created.id and _best(worker, obama[0]) == a
    assert _engine_holds_db(worker) and worker.index.status().consistent

"""`facebank bench-follow`: readiness and the index follow tick at N faces, before and after
the change log (issue 14 part 4).

A SQLite gallery of N faces (random unit vectors, four faces a person: the vectors do not
matter to these figures, only the row count does) is written straight into the tables in
one transaction with one change-log row, then served by a real app (models loaded, index
built from the database). Figures, medians of REPEATS:
- ready_before_ms: the full index check readiness ran before the log (every face id of the
  database and the index compared: IndexManager.status());
- ready_ms: GET /health/ready as served now (a connection check and the log head);
- tick_before_ms: the old follow tick with nothing changed (count and sum of every id);
- tick_before_changed_ms: the old tick after a change (every id read and compared);
- tick_idle_ms / tick_add_ms / tick_remove_ms: IndexManager.follow() now, with nothing
  changed, after one face added and after one face deleted through another connection
  (as another worker would); the remove includes faiss compacting its flat array.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from facebank.api.app import create_app
from facebank.config import Settings
from facebank.index.checksum import ids_checksum
from facebank.services.container import build_services
from facebank.store.changes import ChangeKind, record_change
from facebank.store.coltypes import utcnow
from facebank.store.db import make_engine, make_session_factory, migrate
from facebank.store.people import FaceRepository, NewFace
from facebank.store.tables import Face, Person
from facebank.store.tx import run_write
from facebank.store.vectors import encode_embedding

REPEATS = 7
FACES_PER_PERSON = 4
CHUNK = 20_000
MEDIA_REF = "0" * 64


@dataclass(frozen=True)
class FollowResult:
    faces: int
    seed_s: float
    start_s: float
    ready_before_ms: float
    ready_ms: float
    tick_before_ms: float
    tick_before_changed_ms: float
    tick_idle_ms: float
    tick_add_ms: float
    tick_remove_ms: float


def bench(settings: Settings, faces: int, work_dir: Path) -> FollowResult:
    work_dir.mkdir(parents=True, exist_ok=True)
    database = work_dir / f"follow-{faces}.db"
    database.unlink(missing_ok=True)
    settings = settings.model_copy(update={
        "data_dir": work_dir / f"data-{faces}", "database_url": f"sqlite:///{database}",
        "index_follow_interval_s": 0.0,
    })  # fmt: skip
    started = time.perf_counter()
    dim = _seed(settings, faces)
    seed_s = time.perf_counter() - started
    started = time.perf_counter()
    services = build_services(settings)
    services.start()
    start_s = time.perf_counter() - started
    # Here, not at the top: `facebank serve` builds the bench-follow parser from this
    # module's docstring, and the test client's import prints a deprecation warning.
    from fastapi.testclient import TestClient

    try:
        with TestClient(create_app(services=services)) as client:
            other = make_engine(settings.effective_database_url, 1, 0)
            writer = FaceRepository(make_session_factory(other))
            manager, model = services.index, services.pipeline.model_id
            assert client.get("/health/ready").status_code == 200
            result = FollowResult(
                faces=faces, seed_s=seed_s, start_s=start_s,
                ready_before_ms=_median_ms(manager.status),
                ready_ms=_median_ms(lambda: client.get("/health/ready")),
                tick_before_ms=_median_ms(lambda: services.faces.id_summary(model)),
                tick_before_changed_ms=_median_ms(
                    lambda: ids_checksum(services.faces.face_ids(model))
                    == ids_checksum(manager.index.face_ids())
                ),
                tick_idle_ms=_median_ms(manager.follow),
                tick_add_ms=_median_ms(manager.follow, lambda: _add_one(writer, model, dim)),
                tick_remove_ms=_median_ms(manager.follow, lambda: _remove_one(writer, model)),
            )  # fmt: skip
            other.dispose()
            return result
    finally:
        services.close()


def _median_ms(fn: Callable[[], Any], before: Callable[[], Any] | None = None) -> float:
    times = []
    for _ in range(REPEATS):
        if before is not None:
            before()
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _seed(settings: Settings, faces: int) -> int:
    """N faces of the running model, in one transaction with one log row; returns dim."""
    from facebank.pipeline.factory import build_pipeline

    pipeline = build_pipeline(settings)
    model, dim = pipeline.model_id, pipeline.dim
    engine = make_engine(settings.effective_database_url)
    try:
        migrate(engine)
        run_write(make_session_factory(engine), lambda s: _insert(s, faces, model, dim))
    finally:
        engine.dispose()
    return dim


def _insert(session: Session, faces: int, model: str, dim: int) -> None:
    now, rng = utcnow(), np.random.default_rng(0)
    people = (faces + FACES_PER_PERSON - 1) // FACES_PER_PERSON
    for start in range(0, people, CHUNK):
        rows = [{"id": i + 1, "name": f"person {i + 1}", "meta": {}, "created_at": now,
                 "updated_at": now} for i in range(start, min(people, start + CHUNK))]  # fmt: skip
        session.execute(insert(Person), rows)
    for start in range(0, faces, CHUNK):
        ids = range(start, min(faces, start + CHUNK))
        vectors = rng.standard_normal((len(ids), dim), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        session.execute(insert(Face), [
            {"id": i + 1, "person_id": i // FACES_PER_PERSON + 1, "model_id": model,
             "embedding": vectors[n].astype("<f4").tobytes(), "dim": dim, "box": [0, 0, 1, 1],
             "landmarks": [[0, 0]] * 5, "det_score": 0.9, "quality": {}, "media_ref": MEDIA_REF,
             "media_type": "image/jpeg", "image_width": 1, "image_height": 1, "created_at": now}
            for n, i in enumerate(ids)
        ])  # fmt: skip
    record_change(session, ChangeKind.RESET, ())


def _add_one(writer: FaceRepository, model: str, dim: int) -> None:
    vector = np.random.default_rng().standard_normal(dim).astype(np.float32)
    vector /= np.linalg.norm(vector)
    face = NewFace(model_id=model, embedding=encode_embedding(vector), dim=dim,
                   box=[0, 0, 1, 1], landmarks=[[0, 0]] * 5, det_score=0.9, quality={},
                   media_ref=MEDIA_REF, media_type="image/jpeg", image_width=1,
                   image_height=1)  # fmt: skip
    writer.add(1, [face])


def _remove_one(writer: FaceRepository, model: str) -> None:
    writer.delete(int(writer.face_ids(model)[-1]))  # an O(gallery) read, outside the timing


def as_dict(result: FollowResult) -> dict[str, Any]:
    return dict(result.__dict__)

"""The pgvector backend answers recognition exactly as the FAISS backend does, on real photos.

Three containers share one SQLite database: the default FAISS backend, pgvector scanning
exactly, and pgvector with the HNSW index forced (vector_ann_threshold 2). The gallery is
enrolled once, through the FAISS container: every identity of ../shared/faces/people with
all but its last photo. Every photo of people and group_photos, and one photo of each Yale
subject, is then recognized with top_k 5 on all three: same faces, same best match, same
top-5 people in the same order, scores within 1e-4 (docs/index.md, "The pgvector backend").
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from facebank.auth.principal import system_principal
from facebank.index.pgvector_index import PgVectorIndex, table_name
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage, Face
from facebank.services.container import Services, build_services
from facebank.services.photos import FaceChoice, Photo
from facebank.services.recognition import Recognition
from facebank.store.people import PersonFields
from tests.api.conftest import make_settings
from tests.conftest import GROUPS, PHOTO_SUFFIXES, YALE, identity_photos
from tests.vectorpg import fresh_vector_database, prefer_indexes

pytestmark = pytest.mark.vector
TESTS = system_principal("tests")
TOP_K = 5
MAX_FACES = 20  # the group photos hold up to a dozen faces
SCORE_TOLERANCE = 1e-4


class EmbedOnce(FacePipeline):
    """The real pipeline, remembering each photo's analysis: the three containers ask for
    the same photos, and the models are deterministic, so each photo is embedded once."""

    def __init__(self, real: FacePipeline) -> None:
        super().__init__(
            real.lanes, real.limits, real.det_size, real.det_threshold, real.model_id,
            real.observers, real.passes,
        )  # fmt: skip
        self._seen: dict[tuple[bytes, int | None], tuple[DecodedImage, list[Face]]] = {}

    def analyze(self, data: bytes, max_faces: int | None = None) -> tuple[DecodedImage, list[Face]]:
        key = (hashlib.sha256(data).digest(), max_faces)
        if key not in self._seen:
            self._seen[key] = super().analyze(data, max_faces)
        return self._seen[key]


@dataclass(frozen=True)
class Backends:
    faiss: Services
    exact: Services
    hnsw: Services
    exact_url: str
    hnsw_url: str
    enrolled: dict[int, str]  # person id -> identity
    held_out: dict[Path, str]  # photo not enrolled -> its identity


def _queries() -> list[Path]:
    """Every photo of people and group_photos, one per Yale subject (each a new condition)."""
    people = [p for photos in identity_photos().values() for p in photos]
    groups = sorted(p for p in GROUPS.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
    yale = []
    for n, subject in enumerate(sorted(d for d in YALE.iterdir() if d.is_dir())):
        photos = sorted(p for p in subject.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        yale.append(photos[n % len(photos)])
    return people + groups + yale


def _container(stack: ExitStack, data_dir: Path, db_url: str, pipeline: FacePipeline,
               **overrides: object) -> Services:  # fmt: skip
    settings = make_settings(data_dir, db_url, index_follow_interval_s=0, **overrides)
    services = build_services(settings, pipeline=pipeline)
    stack.callback(services.close)
    services.start()
    return services


def _enroll(services: Services) -> tuple[dict[int, str], dict[Path, str]]:
    enrolled, held_out = {}, {}
    for identity, photos in identity_photos().items():
        if len(photos) < 2:
            continue  # nothing left to hold out: this identity stays a stranger
        person, _ = services.gallery.create_person(
            TESTS, PersonFields(name=identity),
            [Photo(p.read_bytes(), p.name) for p in photos[:-1]], FaceChoice.LARGEST,
        )  # fmt: skip
        enrolled[person.id] = identity
        held_out[photos[-1]] = identity
    return enrolled, held_out


@pytest.fixture(scope="module")
def backends(
    tmp_path_factory: pytest.TempPathFactory, vector_url: str, face_pipeline: FacePipeline
) -> Iterator[Backends]:
    root = tmp_path_factory.mktemp("equality")
    db_url = f"sqlite:///{root / 'shared.db'}"
    pipeline = EmbedOnce(face_pipeline)
    with ExitStack() as stack:
        faiss = _container(stack, root / "faiss", db_url, pipeline)
        enrolled, held_out = _enroll(faiss)
        # Started after the enrolls: each fills its empty table from the database at start.
        exact_url = stack.enter_context(fresh_vector_database(vector_url))
        exact = _container(
            stack, root / "exact", db_url, pipeline, index_backend="pgvector",
            vector_url=exact_url,
        )  # fmt: skip
        hnsw_url = stack.enter_context(fresh_vector_database(vector_url))
        prefer_indexes(hnsw_url)  # the planner would scan 58 rows rather than walk HNSW
        hnsw = _container(
            stack, root / "hnsw", db_url, pipeline, index_backend="pgvector",
            vector_url=hnsw_url, vector_ann_threshold=2,
        )  # fmt: skip
        yield Backends(faiss, exact, hnsw, exact_url, hnsw_url, enrolled, held_out)


def _recognize(services: Services, photo: Path) -> Recognition:
    return services.recognition.recognize(photo.read_bytes(), TOP_K, None, MAX_FACES)


def _differences(want: Recognition, got: Recognition) -> list[str]:
    """What differs between two answers for one photo, in words (empty: equal)."""
    if len(want.faces) != len(got.faces):
        return [f"{len(want.faces)} faces vs {len(got.faces)}"]
    found = []
    for n, (w, g) in enumerate(zip(want.faces, got.faces, strict=True)):
        if w.face.detection.box != g.face.detection.box:
            found.append(f"face {n}: box {w.face.detection.box} vs {g.face.detection.box}")
        w_match = None if w.match is None else w.match.person.id
        g_match = None if g.match is None else g.match.person.id
        if w_match != g_match:
            found.append(f"face {n}: best match {w_match} vs {g_match}")
        w_people = [c.person.id for c in w.candidates]
        g_people = [c.person.id for c in g.candidates]
        if w_people != g_people:
            found.append(f"face {n}: top-{TOP_K} people {w_people} vs {g_people}")
            continue
        for wc, gc in zip(w.candidates, g.candidates, strict=True):
            if abs(wc.score - gc.score) > SCORE_TOLERANCE:
                found.append(f"face {n}: person {wc.person.id} {wc.score:.6f} vs {gc.score:.6f}")
    return found


def _compare(backends: Backends, other: Services) -> tuple[int, dict[str, list[str]]]:
    """(faces compared, photo -> differences) over every query photo."""
    faces, differing = 0, {}
    for photo in _queries():
        want = _recognize(backends.faiss, photo)
        faces += len(want.faces)
        found = _differences(want, _recognize(other, photo))
        if found:
            differing[str(photo)] = found
    return faces, differing


def test_the_gallery_is_the_same_in_every_backend(backends: Backends) -> None:
    faiss = backends.faiss.index.status()
    for other in (backends.exact, backends.hnsw):
        status = other.index.status()
        assert status.consistent
        assert status.index_size == faiss.index_size
        assert status.index_checksum == faiss.index_checksum
    assert faiss.index_size >= 50  # 18 identities, 58 enrolled photos
    assert _kind(backends.exact_url, backends.exact) == "flat"
    assert _kind(backends.hnsw_url, backends.hnsw) == "hnsw"


def test_exact_pgvector_answers_as_faiss(backends: Backends) -> None:
    faces, differing = _compare(backends, backends.exact)
    assert faces >= 100  # 113: 77 people photos, 15 Yale photos, 21 faces in the groups
    assert differing == {}


def test_hnsw_pgvector_answers_as_faiss(backends: Backends) -> None:
    # The engine really walks the HNSW graph for this query (not the sequential scan its
    # planner prefers on a small table): the equality below is about HNSW.
    recognition = backends.hnsw.recognition
    assert "hnsw" in _plan(backends.hnsw_url, recognition.model_id, recognition.dim).lower()
    _, differing = _compare(backends, backends.hnsw)
    # HNSW only picks candidates; they are re-scored exactly. With a gallery this small
    # every face is a candidate, so no answer may differ (docs/index.md).
    assert differing == {}


def test_the_answers_are_recognition(backends: Backends) -> None:
    """Equal answers mean something: held-out photos mostly find their own person."""
    right = 0
    for photo, identity in backends.held_out.items():
        match = _recognize(backends.faiss, photo).faces[0].match
        right += match is not None and backends.enrolled[match.person.id] == identity
    assert right >= 0.8 * len(backends.held_out)


def _kind(url: str, services: Services) -> str:
    engine = PgVectorIndex(url, services.recognition.dim, services.recognition.model_id)
    try:
        return engine.kind
    finally:
        engine.close()


def _plan(url: str, model_id: str, dim: int) -> str:
    """The plan of the engine's nearest-faces query with index scans on, as searches run."""
    table = table_name(model_id, dim)
    query = "[" + ",".join(["0.0"] * (dim - 1) + ["1.0"]) + "]"
    with psycopg.connect(url, autocommit=True) as conn:
        explain = sql.SQL(
            "EXPLAIN SELECT face_id FROM {} ORDER BY embedding <#> %s::vector LIMIT 32"
        ).format(sql.Identifier(table))
        rows = conn.execute(explain, (query,)).fetchall()
    return "\n".join(str(row[0]) for row in rows)

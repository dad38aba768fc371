"""`new_index`: the same index tests against every backend.

FAISS in process; pgvector answering by exact scan (its mode below ann_threshold faces);
and pgvector through its HNSW index (built from the second face on, ef_search at its maximum,
so small galleries are still searched whole), in a database whose planner prefers index
scans: on tables this small it would otherwise scan them sequentially, exactly. The pgvector
ones need the embedded server (`vector_url` in tests/conftest.py), started once per run; one
that cannot start fails the tests, saying why.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from facebank.index import GalleryIndex
from facebank.index.pgvector_index import EF_SEARCH_MAX, PgVectorIndex
from facebank.index.protocol import VectorIndex
from tests.vectorpg import fresh_vector_database, prefer_indexes

from .helpers import IndexFactory


@pytest.fixture(scope="session")
def hnsw_vector_url(vector_url: str) -> Iterator[str]:
    """A database whose planner walks the HNSW graph even on tiny tables (prefer_indexes)."""
    with fresh_vector_database(vector_url) as url:
        prefer_indexes(url)
        yield url


@pytest.fixture(
    params=[
        "faiss",
        pytest.param("pgvector", marks=pytest.mark.vector),
        pytest.param("pgvector-hnsw", marks=pytest.mark.vector),
    ]
)
def new_index(request: pytest.FixtureRequest) -> Iterator[IndexFactory]:
    if request.param == "faiss":
        yield GalleryIndex
        return
    url: str = request.getfixturevalue("vector_url")
    if request.param == "pgvector-hnsw":
        url = request.getfixturevalue("hnsw_vector_url")
    made: list[PgVectorIndex] = []

    def make(dim: int, model_id: str) -> VectorIndex:
        if request.param == "pgvector-hnsw":
            options = {"ann_threshold": 2, "ef_search": EF_SEARCH_MAX}
        else:
            options = {}
        index = PgVectorIndex(url, dim, model_id, table=f"test_{secrets.token_hex(6)}", **options)
        made.append(index)
        return index

    yield make
    for index in made:
        index.close()

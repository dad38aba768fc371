"""`new_index`: the same index tests against every backend.

FAISS in process; pgvector answering by exact scan (its mode below ann_threshold faces);
and pgvector through its HNSW index (built from the second face on, ef_search at its maximum,
so small galleries are still searched whole). The pgvector ones need the embedded server
(`vector_url` in tests/conftest.py), started once per run; one that cannot start fails the
tests, saying why.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from facebank.index import GalleryIndex
from facebank.index.pgvector_index import EF_SEARCH_MAX, PgVectorIndex
from facebank.index.protocol import VectorIndex

from .helpers import IndexFactory


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

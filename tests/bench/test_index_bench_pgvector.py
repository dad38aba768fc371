"""`facebank bench-index --backend pgvector` on a small gallery: real photos embedded by the
pipeline among distractors, in an exact and an HNSW table of the embedded pgvector server."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.bench import index_bench_pgvector
from facebank.cli.index_bench import format_table
from facebank.cli.index_bench_pgvector import COLUMNS
from facebank.pipeline.pipeline import FacePipeline

from .test_index_bench import real_seeds

pytestmark = pytest.mark.vector


def test_both_tables_are_measured_against_faiss(
    face_pipeline: FacePipeline, tmp_path: Path, vector_url: str
) -> None:
    seeds = real_seeds(face_pipeline)
    flat, hnsw = index_bench_pgvector.bench_engine_size(seeds, 2_000, tmp_path, vector_url, 128)
    assert (flat.kind, hnsw.kind) == ("pgvector flat", "pgvector hnsw")
    # The exact scan is FAISS's exact scan: every answer the same.
    assert (flat.rank1_agreement, flat.top5_equal, flat.rank1_misses) == (1.0, 1.0, [])
    assert not flat.plan_uses_hnsw
    assert hnsw.plan_uses_hnsw  # 2,000 faces: enough for the planner to take the index
    assert hnsw.rank1_is_mate > 0.9
    for result in (flat, hnsw):
        assert result.queries == len(seeds.names) == result.timed_searches // 2
        assert min(result.p50_ms, result.faiss_p50_ms, result.enroll_ms, result.load_s) > 0
    table = format_table([index_bench_pgvector.as_dict(r) for r in (flat, hnsw)], COLUMNS)
    assert "2000 | pgvector hnsw" in table
    # Each run drops its tables: the server is left as it was found.
    assert _bench_tables(vector_url) == []


def _bench_tables(url: str) -> list[str]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'facebank_bench_%'"
        ).fetchall()
    return [str(row[0]) for row in rows]

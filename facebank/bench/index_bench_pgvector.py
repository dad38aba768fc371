"""`facebank bench-index --backend pgvector`: the pgvector index at N faces, against FAISS.

The same gallery as the FAISS bench (real photos of ../shared/faces among distractors, one
person per distractor) goes into a FAISS flat index, the exact reference, and into two
pgvector tables: one scanned exactly, one with the HNSW index (built when the gallery is
complete, as FACEBANK_VECTOR_ANN_THRESHOLD does it). Figures per table:
- p50_ms / p95_ms: one query, top 5 people, one thread, through the engine's connection
  pool (PgVectorIndex.search as served), each real photo searched twice;
- faiss_p50_ms: the same searches on the in-process FAISS index;
- rank1_agreement: share of leave-one-out queries whose rank-1 face equals the exact scan's
  (or ties it); rank1_is_mate: share whose rank-1 is a photo of the query's own identity;
- top5_equal: share whose top-5 people, in order, equal FAISS's;
- load_s: COPY of every face but the real ones; build_s: adding the real ones, which builds
  the HNSW index on the table; enroll_ms: median single-face add into the full table;
- plan_uses_hnsw: the engine's planner chose the HNSW index for the search query.
"""

from __future__ import annotations

import secrets
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from psycopg import sql

from facebank.bench.distractors import pair_scores
from facebank.bench.index_bench import (
    DISTRACTOR_PERSON0,
    ENROLLS,
    MODEL,
    REAL_FACE_ID0,
    SCORE_TIE,
    TOP_K,
    build_gallery,
    cached_distractors,
    exact_rank1,
    search_ms,
)
from facebank.bench.index_seeds import Seeds
from facebank.index import GalleryIndex
from facebank.index.pgvector_index import PgVectorIndex

KINDS = ("flat", "hnsw")
_Exact = tuple[NDArray[np.int64], NDArray[np.float32]]


@dataclass(frozen=True)
class EngineResult:
    faces: int
    kind: str  # "pgvector flat" or "pgvector hnsw"
    ef_search: int
    load_s: float
    build_s: float
    p50_ms: float
    p95_ms: float
    faiss_p50_ms: float
    rank1_agreement: float
    rank1_is_mate: float
    top5_equal: float
    rank1_misses: list[str]
    queries: int
    timed_searches: int
    enroll_ms: float
    plan_uses_hnsw: bool


def bench_engine_size(
    seeds: Seeds, faces: int, work_dir: Path, url: str, ef_search: int
) -> list[EngineResult]:
    """One result per table kind (exact scan, HNSW) for a gallery of `faces` faces."""
    same, _ = pair_scores(seeds.vectors, seeds.people)
    n_other = faces - seeds.vectors.shape[0]
    distractors = cached_distractors(seeds.vectors, n_other, float(same.min()), work_dir)
    reference = build_gallery(seeds, distractors)
    exact = exact_rank1(reference, seeds)
    faiss_p50 = statistics.median(search_ms(reference, seeds.vectors))
    return [
        _bench_kind(kind, seeds, distractors, reference, exact, faiss_p50, url, ef_search)
        for kind in KINDS
    ]


def _bench_kind(
    kind: str, seeds: Seeds, distractors: NDArray[np.float32], reference: GalleryIndex,
    exact: _Exact, faiss_p50: float, url: str, ef_search: int,
) -> EngineResult:  # fmt: skip
    faces = seeds.vectors.shape[0] + distractors.shape[0]
    table = f"facebank_bench_{kind}_{secrets.token_hex(4)}"
    # HNSW: built by the add that completes the gallery; flat: never built.
    threshold = faces if kind == "hnsw" else faces + ENROLLS + 1
    engine = PgVectorIndex(
        url, seeds.vectors.shape[1], MODEL, table=table, ann_threshold=threshold,
        ef_search=ef_search,
    )  # fmt: skip
    try:
        load_s, build_s = _fill(engine, seeds, distractors)
        agree, mate, top5, misses = _agreement(engine, reference, seeds, exact)
        times = search_ms(engine, seeds.vectors)
        enroll_ms = _enroll_ms(engine, distractors[-ENROLLS:], faces)
        uses_hnsw = _plan_uses_hnsw(url, table, seeds.vectors[0])
    finally:
        engine.close()
        _drop(url, table)
    return EngineResult(
        faces=faces, kind=f"pgvector {kind}", ef_search=ef_search, load_s=round(load_s, 2),
        build_s=round(build_s, 2), p50_ms=round(statistics.median(times), 3),
        p95_ms=round(float(np.percentile(times, 95)), 3), faiss_p50_ms=round(faiss_p50, 3),
        rank1_agreement=round(agree, 4), rank1_is_mate=round(mate, 4), top5_equal=round(top5, 4),
        rank1_misses=misses, queries=len(seeds.names), timed_searches=len(times),
        enroll_ms=round(enroll_ms, 3), plan_uses_hnsw=uses_hnsw,
    )  # fmt: skip


def _fill(
    engine: PgVectorIndex, seeds: Seeds, distractors: NDArray[np.float32]
) -> tuple[float, float]:
    """The distractors by COPY (load_s), then the real photos, whose add builds HNSW."""
    n_real = seeds.vectors.shape[0]
    other_ids = np.arange(n_real + 1, n_real + 1 + distractors.shape[0], dtype=np.int64)
    other_people = DISTRACTOR_PERSON0 + np.arange(distractors.shape[0], dtype=np.int64)
    started = time.perf_counter()
    engine.add(other_ids, other_people, distractors)
    load_s = time.perf_counter() - started
    real_ids = np.arange(REAL_FACE_ID0, REAL_FACE_ID0 + n_real, dtype=np.int64)
    started = time.perf_counter()
    engine.add(real_ids, seeds.people + 1, seeds.vectors)
    return load_s, time.perf_counter() - started


def _agreement(
    engine: PgVectorIndex, reference: GalleryIndex, seeds: Seeds, exact: _Exact
) -> tuple[float, float, float, list[str]]:
    """Leave-one-out answers of the engine against FAISS's: (rank-1 = exact, rank-1 is a
    mate, top-5 people equal, the queries whose rank-1 differs)."""
    exact_ids, exact_scores = exact
    agree, mate, top5, misses = 0, 0, 0, []
    for i, vector in enumerate(seeds.vectors):
        fid, person = np.array([REAL_FACE_ID0 + i]), seeds.people[i : i + 1] + 1
        engine.remove(fid)
        reference.remove(fid)
        got = engine.search(vector[None, :], TOP_K)[0]
        want = reference.search(vector[None, :], TOP_K)[0]
        engine.add(fid, person, vector[None, :])
        reference.add(fid, person, vector[None, :])
        tie = abs(got[0].score - float(exact_scores[i])) <= SCORE_TIE
        if got[0].face_id == exact_ids[i] or tie:
            agree += 1
        else:
            misses.append(seeds.names[i])
        mate += int(got[0].person_id == person[0])
        top5 += [h.person_id for h in got] == [h.person_id for h in want]
    n = len(seeds.names)
    return agree / n, mate / n, top5 / n, misses


def _enroll_ms(engine: PgVectorIndex, vectors: NDArray[np.float32], faces: int) -> float:
    first = faces + 1
    times = []
    for i, vector in enumerate(vectors):
        started = time.perf_counter()
        engine.add([first + i], [first + i], vector[None, :])
        times.append((time.perf_counter() - started) * 1000)
    engine.remove(np.arange(first, first + len(vectors)))
    return statistics.median(times)


def _plan_uses_hnsw(url: str, table: str, query: NDArray[np.float32]) -> bool:
    """Whether the planner picks the HNSW index for the search's query shape (on a small
    table it prefers a sequential scan, which is exact)."""
    literal = "[" + ",".join(f"{float(x):.7f}" for x in query) + "]"
    explain = sql.SQL(
        "EXPLAIN SELECT face_id FROM {} ORDER BY embedding <#> %s::vector LIMIT 32"
    ).format(sql.Identifier(table))
    with psycopg.connect(url, autocommit=True) as conn:
        plan = " ".join(str(row[0]) for row in conn.execute(explain, (literal,)).fetchall())
    return f"{table[:56]}_hnsw" in plan


def _drop(url: str, table: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))


def as_dict(result: EngineResult) -> dict[str, Any]:
    return asdict(result)

"""`facebank bench-index --backend pgvector`: the engine's table kinds against FAISS, on the
server `--vector-url` names or on an embedded PostgreSQL + pgvector started for the run."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager

from facebank.bench.index_seeds import Seeds
from facebank.config import Settings

COLUMNS = (
    ("faces", "faces", "{:d}"),
    ("kind", "kind", "{}"),
    ("ef_search", "ef", "{:d}"),
    ("p50_ms", "p50 ms", "{:.3f}"),
    ("p95_ms", "p95 ms", "{:.3f}"),
    ("faiss_p50_ms", "FAISS p50 ms", "{:.3f}"),
    ("rank1_agreement", "rank-1 = exact", "{:.2%}"),
    ("rank1_is_mate", "rank-1 mate", "{:.2%}"),
    ("top5_equal", "top-5 = FAISS", "{:.2%}"),
    ("load_s", "load s", "{:.1f}"),
    ("build_s", "build s", "{:.1f}"),
    ("enroll_ms", "enroll ms", "{:.2f}"),
    ("plan_uses_hnsw", "HNSW plan", "{}"),
)


def run_engine(settings: Settings, args: argparse.Namespace, seeds: Seeds, sizes: list[int]) -> int:
    from facebank.bench import index_bench_pgvector
    from facebank.cli.index_bench import format_table, seeds_model

    results = []
    with _server(args.vector_url) as url:
        for faces in sizes:
            for result in index_bench_pgvector.bench_engine_size(
                seeds, faces, args.work_dir, url, settings.vector_ef_search
            ):
                results.append(index_bench_pgvector.as_dict(result))
                if result.rank1_misses:
                    print(f"{faces} faces, {result.kind}: rank-1 differs from exact for "
                          f"{', '.join(result.rank1_misses)}")  # fmt: skip
    print(format_table(results, COLUMNS))
    if args.json:
        report = {"model_id": seeds_model(args.work_dir), "queries": len(seeds.names),
                  "backend": "pgvector", "sizes": results}  # fmt: skip
        args.json.write_text(json.dumps(report, indent=2))
    return 0


@contextmanager
def _server(url: str) -> Iterator[str]:
    if url:
        yield url
        return
    from facebank.bench.vector_server import vector_server

    print("no --vector-url: starting an embedded PostgreSQL + pgvector for this run")
    with vector_server() as started:
        yield started

"""`facebank bench-index --backend pgvector` with no --vector-url starts its own embedded
PostgreSQL + pgvector, measures both table kinds and writes them to --json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from facebank.cli.main import main
from facebank.pipeline.pipeline import FacePipeline
from tests.bench.test_index_bench import real_seeds

pytestmark = pytest.mark.vector


def test_bench_index_pgvector_on_an_embedded_server(
    face_pipeline: FacePipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The photos embedded here once, cached where the bench looks for them.
    seeds = real_seeds(face_pipeline)
    np.savez(
        tmp_path / f"seeds-{face_pipeline.model_id}.npz",
        vectors=seeds.vectors, people=seeds.people, names=np.array(seeds.names),
    )  # fmt: skip
    out = tmp_path / "pg.json"
    code = main(["bench-index", "--faces", "1000", "--backend", "pgvector",
                 "--work-dir", str(tmp_path), "--json", str(out)])  # fmt: skip
    assert code == 0
    assert "starting an embedded PostgreSQL + pgvector" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["backend"] == "pgvector"
    assert [row["kind"] for row in report["sizes"]] == ["pgvector flat", "pgvector hnsw"]
    assert report["sizes"][0]["top5_equal"] == 1.0

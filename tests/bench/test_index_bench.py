"""`facebank bench-index` on a small gallery: real photos embedded by the pipeline among
distractors made from them; every figure present and the flat index agreeing with itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facebank.bench import index_bench
from facebank.bench.distractors import closeness, make_distractors, pair_scores
from facebank.bench.index_seeds import Seeds
from facebank.cli.index_bench import format_table
from facebank.evaluation.runner import embed_dataset
from facebank.pipeline.pipeline import FacePipeline

from ..conftest import PEOPLE


def real_seeds(pipeline: FacePipeline) -> Seeds:
    photos, _ = embed_dataset(pipeline, PEOPLE)
    names = sorted({p.identity for p in photos})
    vectors = np.stack([p.embedding for p in photos]).astype(np.float32)
    people = np.array([names.index(p.identity) for p in photos], dtype=np.int64)
    return Seeds(vectors, people, [p.name for p in photos])


def test_bench_size_reports_every_figure(face_pipeline: FacePipeline, tmp_path: Path) -> None:
    seeds = real_seeds(face_pipeline)
    result = index_bench.bench_size(seeds, 3_000, tmp_path)
    assert (result.faces, result.kind, result.loaded_kind) == (3_000, "flat", "flat")
    assert result.rank1_agreement == 1.0  # the flat index is the exact scan
    assert result.rank1_misses == []
    assert result.rank1_is_mate > 0.9
    assert result.queries == len(seeds.names)
    # Resident growth is only meaningful for big galleries (a small one reuses freed
    # heap); the snapshot holds at least each float32 vector.
    assert result.snapshot_bytes_per_face > 2048
    assert min(result.p50_ms, result.load_s, result.enroll_ms) > 0
    row = index_bench.as_dict(result)
    assert {"p50_ms", "p95_ms", "rank1_agreement", "bytes_per_face", "load_s",
            "enroll_ms"} <= row.keys()  # fmt: skip
    assert "3000 | flat" in format_table([row])
    # Distractors cached on the first call are read back, not remade.
    assert len(list(tmp_path.glob("distractors-*.npy"))) == 1


def test_distractors_are_no_easier_than_real_strangers(face_pipeline: FacePipeline) -> None:
    seeds = real_seeds(face_pipeline)
    same, different = pair_scores(seeds.vectors, seeds.people)
    distractors = make_distractors(seeds.vectors, 20_000, cap=float(same.min()))
    np.testing.assert_allclose(np.linalg.norm(distractors, axis=1), 1.0, atol=1e-5)
    near = closeness(distractors, seeds.vectors, different)
    # closeness() rounds to 4 places, and rounding keeps the order: compare rounded
    assert near["distractor_query_max"] <= round(float(same.min()), 4) + 1e-9  # no look-alikes
    assert near["distractor_query_max"] >= near["real_different_max"]
    assert near["distractor_query_p99_9"] >= near["real_different_p99_9"]

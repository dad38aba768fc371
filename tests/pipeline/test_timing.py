"""Per-image latency with 1 vs 2 intra-op threads. Printed for the record, never asserted
(run with `pytest -s tests/pipeline/test_timing.py` to see the numbers)."""

from __future__ import annotations

import statistics
import time

from facebank.models.detector import ScrfdDetector
from facebank.models.embedder import ArcFaceEmbedder
from facebank.models.session_factory import OrtSessionFactory
from facebank.pipeline.align import norm_crop
from facebank.pipeline.pipeline import FacePipeline

from .conftest import SINGLE_FACE

RUNS = 15


def _pipeline_with_threads(base: FacePipeline, threads: int) -> FacePipeline:
    factory = OrtSessionFactory("auto", intra_op_threads=threads)
    return FacePipeline(
        ScrfdDetector(base.detector.path, factory),
        ArcFaceEmbedder(base.embedder.path, factory),
        base.limits,
        det_size=base.det_size,
        det_threshold=base.det_threshold,
        model_id=base.model_id,
    )


def _stage_medians(p: FacePipeline, data: bytes) -> dict[str, float]:
    stages: dict[str, list[float]] = {"decode": [], "detect": [], "align": [], "embed": []}
    for _ in range(RUNS):
        t0 = time.perf_counter()
        image = p.decode(data)
        t1 = time.perf_counter()
        [det] = p.detect(image, max_faces=1)
        t2 = time.perf_counter()
        crop = norm_crop(image.pixels, det.landmarks)
        t3 = time.perf_counter()
        p.embedder.embed([crop])
        t4 = time.perf_counter()
        for name, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[name].append(dt * 1000)
    medians = {name: statistics.median(v) for name, v in stages.items()}
    totals = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        p.analyze(data, max_faces=1)
        totals.append((time.perf_counter() - t0) * 1000)
    medians["analyze"] = statistics.median(totals)
    return medians


def test_print_latency_1_vs_2_threads(pipeline: FacePipeline) -> None:
    data = SINGLE_FACE.read_bytes()
    for threads in (1, 2):
        p = _pipeline_with_threads(pipeline, threads)
        p.analyze(data)  # warm-up: first run allocates ORT buffers
        m = _stage_medians(p, data)
        print(
            f"\n[timing] {SINGLE_FACE.name} {p.decode(data).width}x{p.decode(data).height}, "
            f"intra_op={threads}: analyze {m['analyze']:.1f} ms (decode {m['decode']:.1f}, "
            f"detect {m['detect']:.1f}, align {m['align']:.2f}, embed {m['embed']:.1f}; "
            f"median of {RUNS})"
        )

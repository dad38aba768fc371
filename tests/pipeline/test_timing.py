"""Stage timings of one image with 1 and 2 intra-op threads, as the pipeline reports them
to its observers. Asserted: every stage is reported, positive, and the stages add up to no
more than the whole call; the thread count changes speed, not the result. The numbers are
printed for the record (`pytest -s tests/pipeline/test_timing.py`); the bench measures
throughput and latency properly (docs/bench.md)."""

from __future__ import annotations

import time

import numpy as np

from facebank.models.detector import ScrfdDetector
from facebank.models.embedder import ArcFaceEmbedder
from facebank.models.session_factory import OrtSessionFactory
from facebank.pipeline.lanes import Lanes
from facebank.pipeline.pipeline import FacePipeline

from .conftest import SINGLE_FACE

STAGES = ("decode", "detect", "align", "embed", "quality")


class StageRecorder:
    """A StageObserver that keeps what it hears."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}
        self.faces: list[int] = []

    def stage_done(self, stage: str, seconds: float) -> None:
        self.seconds.setdefault(stage, []).append(seconds)

    def faces_found(self, count: int) -> None:
        self.faces.append(count)


def _pipeline_with_threads(base: FacePipeline, threads: int) -> FacePipeline:
    factory = OrtSessionFactory("auto", intra_op_threads=threads)
    models = base.lanes.first
    lanes = Lanes.single(
        ScrfdDetector(models.detector.path, factory), ArcFaceEmbedder(models.embedder.path, factory)
    )
    return FacePipeline(
        lanes,
        base.limits,
        det_size=base.det_size,
        det_threshold=base.det_threshold,
        model_id=base.model_id,
    )


def test_stage_timings_with_1_and_2_threads(pipeline: FacePipeline) -> None:
    data = SINGLE_FACE.read_bytes()
    embeddings = []
    for threads in (1, 2):
        p = _pipeline_with_threads(pipeline, threads)
        assert p.lanes.first.detector.factory.intra_op_threads == threads
        p.analyze(data)  # warm-up: the first run allocates ONNX Runtime buffers
        recorder = StageRecorder()
        p.observers.attach(recorder)
        started = time.perf_counter()
        _, faces = p.analyze(data, max_faces=1)
        total = time.perf_counter() - started
        p.observers.detach(recorder)
        assert set(recorder.seconds) == set(STAGES)
        assert all(len(v) == 1 and v[0] > 0 for v in recorder.seconds.values())
        stage_sum = sum(v[0] for v in recorder.seconds.values())
        assert stage_sum <= total
        assert len(recorder.faces) == 1 and recorder.faces[0] >= 1
        embeddings.append(faces[0].embedding)
        ms = {stage: round(v[0] * 1000, 2) for stage, v in recorder.seconds.items()}
        print(f"\n[timing] intra_op={threads}: analyze {total * 1000:.1f} ms, stages {ms}")
    assert float(np.dot(embeddings[0], embeddings[1])) > 0.9999

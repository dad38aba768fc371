"""The inference executor's dispatch rule, on the real lanes of the loaded pipeline."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest

from facebank.observability.context import request_id
from facebank.pipeline.executor import InferenceExecutor
from facebank.pipeline.pipeline import FacePipeline
from tests.conftest import PEOPLE


@pytest.fixture
def executor(face_pipeline: FacePipeline) -> Any:
    pool = InferenceExecutor(face_pipeline.lanes)
    yield pool
    pool.close()


def thread_name() -> str:
    return threading.current_thread().name


def test_a_lone_job_gets_the_wide_lane(executor: InferenceExecutor) -> None:
    assert executor.submit(thread_name).result(timeout=10).startswith("inference-wide")


def test_concurrent_jobs_get_single_thread_lanes_then_wait(executor: InferenceExecutor) -> None:
    narrow = [lane for lane in executor.lanes if not lane.wide]
    assert narrow and all(lane.threads == 1 for lane in narrow)
    gate = threading.Event()

    def blocked() -> str:
        gate.wait(10)
        return thread_name()

    futures: list[Future[str]] = [executor.submit(blocked) for _ in range(len(narrow) + 3)]
    stats = executor.stats()
    assert stats.in_flight == len(futures)
    # The first job found nothing in flight (wide lane); the others took every narrow lane
    # and the rest wait their turn in arrival order.
    assert set(stats.busy_lanes) == {"wide", *(lane.name for lane in narrow)}
    assert stats.waiting == len(futures) - 1 - len(narrow)
    gate.set()
    names = [f.result(timeout=10) for f in futures]
    assert names[0].startswith("inference-wide")
    assert all(not name.startswith("inference-wide") for name in names[1:])
    assert executor.stats().in_flight == 0


def test_the_callers_request_id_goes_along(executor: InferenceExecutor) -> None:
    token = request_id.set("rid-123")
    try:
        assert executor.submit(request_id.get).result(timeout=10) == "rid-123"
    finally:
        request_id.reset(token)
    assert executor.submit(request_id.get).result(timeout=10) is None


def test_lanes_run_the_real_pipeline(
    executor: InferenceExecutor, face_pipeline: FacePipeline
) -> None:
    data = (PEOPLE / "fr_obama" / "obama.jpg").read_bytes()
    results = [executor.submit(face_pipeline.analyze, data) for _ in range(4)]
    embeddings = [faces[0].embedding for _, faces in (f.result(timeout=60) for f in results)]
    # Wide and single-thread lanes compute the same embedding (to float rounding).
    for vector in embeddings[1:]:
        assert float(vector @ embeddings[0]) > 0.9999


def test_errors_reach_the_caller_and_close_drops_waiting_jobs(
    executor: InferenceExecutor,
) -> None:
    def boom() -> None:
        raise ValueError("bad photo")

    with pytest.raises(ValueError, match="bad photo"):
        executor.submit(boom).result(timeout=10)
    gate = threading.Event()
    running = [executor.submit(gate.wait, 10) for _ in executor.lanes]
    waiting = executor.submit(thread_name)
    executor.close()
    assert waiting.cancelled()
    gate.set()
    assert all(f.result(timeout=10) for f in running)
    with pytest.raises(RuntimeError, match="closed"):
        executor.submit(thread_name)

"""The cross-request batching measurement of the speed-ups bench, on a few real faces."""

from __future__ import annotations

from pathlib import Path

import pytest

from facebank.bench.speedups import LIMITS, _alternating_ms, batching
from facebank.pipeline.decode import decode_image
from facebank.pipeline.pipeline import FacePipeline


def test_alternating_ms_gives_one_median_per_variant() -> None:
    calls: list[int] = []
    ms = _alternating_ms({1: lambda: calls.append(1), 2: lambda: calls.append(2)}, 1, 3)
    assert set(ms) == {1, 2} and all(v >= 0 for v in ms.values())
    # Order flips each round, so neither variant always runs first.
    assert calls == [1, 2, 2, 1, 1, 2]


def test_batching_prints_recogniser_and_detector_lines(
    face_pipeline: FacePipeline,
    people_photos: dict[str, list[Path]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    paths = [p for photos in people_photos.values() for p in photos[:1]][:8]
    images = [decode_image(p.read_bytes(), LIMITS).pixels for p in paths]
    models = face_pipeline.lanes.first
    batching(models.detector, models.embedder, images, rounds=1)
    out = capsys.readouterr().out
    assert "recogniser batching: batch 1" in out and "batch 8" in out
    assert "detector batching (640x640)" in out

"""The bare-pipeline ceiling, measured for real on a couple of photos (short runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from facebank.bench.ceiling import measure_ceiling, measure_latency, measure_throughput
from facebank.config import Settings
from tests.conftest import PEOPLE


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ceiling")
    for identity, name in (("fr_obama", "obama.jpg"), ("fr_biden", "biden.jpg")):
        (folder / identity).mkdir()
        shutil.copy(PEOPLE / identity / name, folder / identity / name)
    return folder


def test_throughput_of_single_thread_processes(photos: Path) -> None:
    images, rate = measure_throughput(photos, processes=2, duration_s=1.0)
    # Two processes, each at least a handful of small photos in a second.
    assert images >= 4 and rate > 2
    assert rate <= images / 0.9  # rate is over each process's own ~1 s


def test_single_image_latency_with_all_cores(photos: Path) -> None:
    seconds = measure_latency(photos, threads=2, rounds=2)
    assert len(seconds) == 4  # 2 photos x 2 rounds, after a warm-up pass
    assert all(0.001 < s < 5 for s in seconds)


def test_ceiling_report(photos: Path) -> None:
    ceiling = measure_ceiling("tiny", photos, Settings(_env_file=None), 1.0, 1)
    assert ceiling.photo_set == "tiny" and ceiling.processes == Settings().cpu_count
    assert ceiling.throughput_ips > 0 and ceiling.latency_images == 2
    assert 0 < ceiling.latency_p50_ms <= ceiling.latency_p95_ms
    assert ceiling.as_dict()["latency_ort_threads"] >= 1

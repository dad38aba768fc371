"""Timings at realistic size (512-d, like ArcFace). Printed, not asserted, except a
loose bound on snapshot load; run with `-s` to see them."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import pytest

from facebank.index import GalleryIndex, load_snapshot, save_snapshot

from .helpers import unit_vectors

DIM = 512
FACES_PER_PERSON = 5


def make_index(n: int) -> GalleryIndex:
    face_ids = np.arange(1, n + 1, dtype=np.int64)
    index = GalleryIndex(DIM, "w600k_mbf")
    index.add(face_ids, face_ids // FACES_PER_PERSON, unit_vectors(n, DIM, n))
    return index


def median_ms(fn: object, repeat: int = 30) -> float:
    assert callable(fn)
    fn()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


@pytest.fixture(scope="module")
def big() -> GalleryIndex:
    return make_index(100_000)


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_search_latency(n: int, big: GalleryIndex) -> None:
    index = big if n == 100_000 else make_index(n)
    query = unit_vectors(1, DIM, 7)
    roster = set(range(100, 130))
    plain = median_ms(lambda: index.search(query, top_k=5))
    rostered = median_ms(lambda: index.search(query, top_k=5, allowed_people=roster))
    scored = median_ms(lambda: index.person_scores(query[0], 123))
    print(
        f"\n[index] {n} faces, 1 query top5: {plain:.2f} ms; "
        f"30-person roster: {rostered:.2f} ms; person_scores: {scored:.3f} ms"
    )
    assert len(index.search(query, top_k=5)[0]) == 5


def test_snapshot_load_time(big: GalleryIndex, tmp_path: Path) -> None:
    start = time.perf_counter()
    save_snapshot(big, tmp_path, {"seq": 1})
    saved_s = time.perf_counter() - start
    start = time.perf_counter()
    loaded = load_snapshot(tmp_path, DIM, "w600k_mbf")
    load_s = time.perf_counter() - start
    size_mb = sum(p.stat().st_size for p in tmp_path.iterdir()) / 1e6
    print(
        f"\n[index] snapshot of {big.size} faces ({size_mb:.0f} MB): "
        f"save {saved_s * 1000:.0f} ms, load {load_s * 1000:.0f} ms"
    )
    assert loaded is not None
    assert loaded[0].size == big.size
    # The spec is "well under a second"; the bound here is loose so a busy CI box
    # does not fail it, while a regression to e.g. per-face Python work would.
    assert load_s < 3.0

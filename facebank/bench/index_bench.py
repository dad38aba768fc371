"""`facebank bench-index`: the gallery index at N faces, on real face queries.

The gallery is the real photos of ../shared/faces (people and yale: 241 faces, 34
identities) plus N - 241 distractors (facebank.bench.distractors). Each real photo is a
query with its own face left out of the gallery for that search, so its other photos are
its mates and the exact rank-1 is usually one of them. Figures per gallery size:
- p50_ms / p95_ms: one query, top 5 people, one thread (GalleryIndex.search as served),
  each real photo searched twice;
- flat_p50_ms: the exact flat scan of the same vectors, one query, one thread;
- rank1_agreement: share of queries whose rank-1 face equals the exact scan's (or ties
  it: some yale photos are byte-identical copies, whose faces score the same);
- rank1_is_mate: share whose rank-1 is a photo of the query's own identity;
- bytes_per_face: resident memory the index added, per face (the process's RSS growth:
  meaningful for big galleries only, a small one reuses freed heap);
- save_s / load_s: snapshot written and read back (load checks CRCs, ids, sketch);
- enroll_ms: median of single-face adds into the full gallery.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from numpy.typing import NDArray

from facebank.bench.distractors import closeness, make_distractors, pair_scores
from facebank.bench.index_seeds import Seeds
from facebank.index import GalleryIndex, load_snapshot, save_snapshot
from facebank.index.protocol import VectorIndex

MODEL = "bench"
TOP_K = 5
ENROLLS = 25
FLAT_QUERIES = 15
DISTRACTOR_PERSON0 = 1_000_000
REAL_FACE_ID0 = 1  # real photos get ids 1..; distractors come after them
_PAGE = os.sysconf("SC_PAGE_SIZE")
SCORE_TIE = 1e-5


@dataclass(frozen=True)
class SizeResult:
    faces: int
    kind: str
    build_s: float
    p50_ms: float
    p95_ms: float
    flat_p50_ms: float
    rank1_agreement: float
    rank1_is_mate: float
    rank1_misses: list[str]  # the queries whose rank-1 differs from the exact scan's
    queries: int  # real photos, each a leave-one-out query for the agreement figures
    timed_searches: int  # behind p50_ms / p95_ms
    bytes_per_face: float
    snapshot_bytes_per_face: float
    save_s: float
    load_s: float
    loaded_kind: str
    enroll_ms: float
    closeness: dict[str, float]


def bench_size(seeds: Seeds, faces: int, work_dir: Path) -> SizeResult:
    real = seeds.vectors
    same, different = pair_scores(real, seeds.people)
    distractors = cached_distractors(real, faces - real.shape[0], float(same.min()), work_dir)
    near = closeness(distractors, real, different)
    rss_before = _rss()
    started = time.perf_counter()
    index = build_gallery(seeds, distractors)
    build_s = time.perf_counter() - started
    bytes_per_face = (_rss() - rss_before) / faces
    fresh = distractors[-ENROLLS:].copy()
    del distractors
    gc.collect()
    exact = exact_rank1(index, seeds)
    agree, mate, misses = _agreement(index, seeds, exact)
    times = search_ms(index, seeds.vectors)
    flat_ms = _flat_ms(index, real)
    enroll_ms = _enroll_ms(index, fresh)
    save_s, load_s, loaded_kind, snap_bytes = _snapshot(index, work_dir)
    return SizeResult(
        faces=faces, kind=index.kind, build_s=round(build_s, 2),
        p50_ms=round(statistics.median(times), 3),
        p95_ms=round(float(np.percentile(times, 95)), 3), flat_p50_ms=round(flat_ms, 3),
        rank1_agreement=round(agree, 4), rank1_is_mate=round(mate, 4),
        rank1_misses=misses, queries=len(seeds.names),
        timed_searches=len(times),
        bytes_per_face=round(bytes_per_face, 1),
        snapshot_bytes_per_face=round(snap_bytes / faces, 1), save_s=round(save_s, 3),
        load_s=round(load_s, 3), loaded_kind=loaded_kind, enroll_ms=round(enroll_ms, 3),
        closeness=near,
    )  # fmt: skip


def cached_distractors(
    real: NDArray[np.float32], n: int, cap: float, work_dir: Path
) -> NDArray[np.float32]:
    """Made once per (count, cap), then read back: 1M of them take a minute to make."""
    path = work_dir / f"distractors-{n}-{cap:.4f}.npy"
    if path.is_file():
        loaded: NDArray[np.float32] = np.load(path)
        return loaded
    made = make_distractors(real, n, cap)
    work_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, made)
    return made


def build_gallery(seeds: Seeds, distractors: NDArray[np.float32]) -> GalleryIndex:
    n_real = seeds.vectors.shape[0]
    real_ids = np.arange(REAL_FACE_ID0, REAL_FACE_ID0 + n_real, dtype=np.int64)
    other_ids = np.arange(n_real + 1, n_real + 1 + distractors.shape[0], dtype=np.int64)
    # One person per distractor; real photos keep their identities (person = identity + 1).
    other_people = DISTRACTOR_PERSON0 + np.arange(distractors.shape[0], dtype=np.int64)
    index = GalleryIndex(seeds.vectors.shape[1], MODEL)
    # Real photos stored last: leaving one out (remove, search, re-add) then moves only
    # the few slots behind it instead of compacting a million vectors.
    index.add(other_ids, other_people, distractors)
    index.add(real_ids, seeds.people + 1, seeds.vectors)
    return index


def exact_rank1(
    index: GalleryIndex, seeds: Seeds
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Per query, the face (and score) the exact scan ranks first without its own face."""
    faiss.omp_set_num_threads(2)  # a batched reference, not a timed figure
    scores, ids = index._index.search(seeds.vectors, 2)
    own = (REAL_FACE_ID0 + np.arange(seeds.vectors.shape[0]) == ids[:, 0])
    return np.where(own, ids[:, 1], ids[:, 0]), np.where(own, scores[:, 1], scores[:, 0])


def _agreement(
    index: GalleryIndex, seeds: Seeds, exact: tuple[NDArray[np.int64], NDArray[np.float32]]
) -> tuple[float, float, list[str]]:
    """Leave-one-out answers against the exact ones: agreement, rank-1 is a mate, misses."""
    exact_ids, exact_scores = exact
    agree, mate, misses = 0, 0, []
    for i, vector in enumerate(seeds.vectors):
        fid = np.array([REAL_FACE_ID0 + i], dtype=np.int64)
        index.remove(fid)
        top = index.search(vector[None, :], TOP_K)[0][0]
        index.add(fid, seeds.people[i : i + 1] + 1, vector[None, :])
        tie = abs(top.score - float(exact_scores[i])) <= SCORE_TIE
        if top.face_id == exact_ids[i] or tie:
            agree += 1
        else:
            misses.append(seeds.names[i])
        mate += int(top.person_id == seeds.people[i] + 1)
    return agree / len(seeds.names), mate / len(seeds.names), misses


def search_ms(index: VectorIndex, queries: NDArray[np.float32]) -> list[float]:
    """Each real query searched alone, twice over, with no write in between (a write's
    memory traffic would evict the codes and charge the search for it)."""
    times = []
    for q in np.concatenate([queries, queries]):
        started = time.perf_counter()
        index.search(q[None, :], TOP_K)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _flat_ms(index: GalleryIndex, queries: NDArray[np.float32]) -> float:
    faiss.omp_set_num_threads(1)
    times = []
    for q in queries[:FLAT_QUERIES]:
        started = time.perf_counter()
        index._index.search(q[None, :], 32)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _enroll_ms(index: GalleryIndex, vectors: NDArray[np.float32]) -> float:
    first = int(index.face_ids()[-1]) + 1
    times = []
    for i, vector in enumerate(vectors):
        started = time.perf_counter()
        index.add([first + i], [first + i], vector[None, :])
        times.append((time.perf_counter() - started) * 1000)
    index.remove(np.arange(first, first + len(vectors)))
    return statistics.median(times)


def _snapshot(index: GalleryIndex, work_dir: Path) -> tuple[float, float, str, int]:
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="snapshot-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        save_snapshot(index, directory, {"bench": True})
        save_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in directory.iterdir())
        started = time.perf_counter()
        loaded = load_snapshot(directory, index.dim, MODEL)
        load_s = time.perf_counter() - started
        kind = loaded[0].kind if loaded is not None else "unusable"
        del loaded
        gc.collect()
    return save_s, load_s, kind, size


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE


def as_dict(result: SizeResult) -> dict[str, Any]:
    return asdict(result)

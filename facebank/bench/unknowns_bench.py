"""`facebank bench-unknowns`: what clustering one new unknown face costs at N stored unknowns.

The store holds half the real photos of ../shared/faces (people and yale, each identity's
even-numbered photos) in their identities' clusters, plus N minus those distractors
(facebank.bench.distractors, as bench-index makes them), each a cluster of its own. The new
unknowns are the other half of the real photos (their mates are stored: they join a
cluster) taken in turn with fresh distractors (nobody near: they start one), alternately,
each stored after it is clustered, as the unknowns service does. Per new face, one thread:
- search_ms: UnknownVectors.neighbours (the rule's k nearest above its link, exact scan);
- assign_ms: the neighbours' clusters and sizes looked up (a dict here; the service reads
  them from the database, not measured) and unknown_linker.assign;
- add_ms: UnknownVectors.add of the new face;
- p50_ms / p95_ms / per_face_ms: the three together, median, 95th percentile and mean.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from facebank.bench.index_seeds import Seeds
from facebank.index.unknown_linker import LinkRule, assign
from facebank.index.unknown_vectors import UnknownVectors

FRESH_SEED = 7  # fresh strangers drawn apart from the stored distractors (seed 0)


@dataclass(frozen=True)
class UnknownsResult:
    stored: int
    queries: int
    joined: int  # new faces that joined (or merged) a cluster
    started: int  # new faces that started one
    build_s: float
    search_p50_ms: float
    assign_p50_ms: float
    add_p50_ms: float
    p50_ms: float
    p95_ms: float
    per_face_ms: float
    link: float
    min_links: int
    neighbours: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Store:
    vectors: UnknownVectors
    cluster_of: dict[int, int]
    sizes: dict[int, int]
    next_id: int


def bench_unknowns(
    seeds: Seeds, distractors: NDArray[np.float32], fresh: NDArray[np.float32],
    queries: int, rule: LinkRule,
) -> UnknownsResult:  # fmt: skip
    """`distractors` fill the store beside the stored real half; `fresh` are new strangers."""
    stored_half, new_half = halves(seeds)
    started = time.perf_counter()
    store = _build(seeds, stored_half, distractors)
    build_s = time.perf_counter() - started
    stored = store.vectors.size
    timings, joined = [], 0
    for i in range(queries):
        vector = seeds.vectors[new_half[(i // 2) % len(new_half)]] if i % 2 == 0 else fresh[i // 2]
        timing, did_join = _cluster_one(store, vector, rule)
        timings.append(timing)
        joined += did_join
    totals = [sum(t) for t in timings]
    return UnknownsResult(
        stored=stored, queries=queries, joined=joined, started=queries - joined,
        build_s=round(build_s, 2),
        search_p50_ms=_ms(statistics.median(t[0] for t in timings)),
        assign_p50_ms=_ms(statistics.median(t[1] for t in timings)),
        add_p50_ms=_ms(statistics.median(t[2] for t in timings)),
        p50_ms=_ms(statistics.median(totals)), p95_ms=_ms(float(np.percentile(totals, 95))),
        per_face_ms=_ms(statistics.fmean(totals)),
        link=rule.link, min_links=rule.min_links, neighbours=rule.neighbours,
    )  # fmt: skip


def fresh_count(queries: int) -> int:
    return queries // 2 + 1


def halves(seeds: Seeds) -> tuple[list[int], list[int]]:
    """Each identity's even-numbered photos (stored) and odd-numbered ones (new faces)."""
    stored: list[int] = []
    new: list[int] = []
    seen: dict[int, int] = {}
    for i, person in enumerate(seeds.people.tolist()):
        (stored if seen.get(person, 0) % 2 == 0 else new).append(i)
        seen[person] = seen.get(person, 0) + 1
    return stored, new


def _build(seeds: Seeds, stored_half: list[int], distractors: NDArray[np.float32]) -> _Store:
    n_real, n_other = len(stored_half), distractors.shape[0]
    # Real faces' clusters are their identities (0..); each distractor is a cluster of one.
    clusters = np.concatenate([seeds.people[stored_half], np.arange(n_other) + 1_000_000])
    ids = np.arange(1, n_real + n_other + 1, dtype=np.int64)
    vectors = UnknownVectors(seeds.vectors.shape[1])
    vectors.add(ids, np.concatenate([seeds.vectors[stored_half], distractors]))
    cluster_of = dict(zip(ids.tolist(), clusters.tolist(), strict=True))
    sizes: dict[int, int] = {}
    for cluster in cluster_of.values():
        sizes[cluster] = sizes.get(cluster, 0) + 1
    return _Store(vectors, cluster_of, sizes, int(ids[-1]) + 1)


def _cluster_one(
    store: _Store, vector: NDArray[np.float32], rule: LinkRule
) -> tuple[tuple[float, float, float], bool]:
    t0 = time.perf_counter()
    ids, _ = store.vectors.neighbours(vector, rule.neighbours, rule.link)
    t1 = time.perf_counter()
    clusters = [store.cluster_of[int(i)] for i in ids]
    decision = assign(rule, clusters, {c: store.sizes[c] for c in set(clusters)})
    t2 = time.perf_counter()
    face_id = store.next_id
    store.next_id += 1
    store.vectors.add(np.array([face_id], np.int64), vector.reshape(1, -1))
    t3 = time.perf_counter()
    # The merge's bookkeeping is the service's database work: kept out of the timings.
    target = decision.cluster_id if decision.cluster_id is not None else -face_id
    for other in decision.merged:
        store.sizes[target] += store.sizes.pop(other)
        for face, cluster in store.cluster_of.items():
            if cluster == other:
                store.cluster_of[face] = target
    store.cluster_of[face_id] = target
    store.sizes[target] = store.sizes.get(target, 0) + 1
    return (t1 - t0, t2 - t1, t3 - t2), decision.cluster_id is not None


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)

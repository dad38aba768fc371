"""Synthetic distractor faces for the index bench, made from real embeddings.

Each distractor is a random signed mix of MIX_SEEDS real face embeddings (Gaussian
weights, so no one photo dominates) plus isotropic noise of NOISE (2.0) times the mix's
norm, re-normalised: a distractor keeps a cosine of ~0.45 with its mix of real faces and
is otherwise spread over all 512 dimensions, more evenly than real faces are (so a
partition or a graph of them gets no help from clusters real galleries have). A candidate
closer to any real photo than `cap` (the lowest real same-person score) is drawn again:
such a face would be a look-alike of that person, a mislabelled mate rather than an
impostor. Below the cap the tail is heavy on purpose: the distractor-to-query scores reach
higher than the real different-person pairs do (max and 99.9th percentile, printed by
`closeness`), so the distractors are no easier to tell from a query's mates than real
strangers are.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

MIX_SEEDS = 8
NOISE = 2.0
_BATCH = 65_536


def make_distractors(
    seeds: NDArray[np.float32], n: int, cap: float, seed: int = 0
) -> NDArray[np.float32]:
    """(n, dim) unit vectors, none with cosine above `cap` to any of `seeds`."""
    rng = np.random.default_rng(seed)
    dim = seeds.shape[1]
    out = np.empty((n, dim), dtype=np.float32)
    filled = 0
    while filled < n:
        batch = _candidates(rng, seeds, _BATCH)
        keep = batch[(batch @ seeds.T).max(axis=1) <= cap]
        take = min(keep.shape[0], n - filled)
        out[filled : filled + take] = keep[:take]
        filled += take
    return out


def _candidates(
    rng: np.random.Generator, seeds: NDArray[np.float32], n: int
) -> NDArray[np.float32]:
    # A dense (n, seeds) weight matrix with MIX_SEEDS non-zeros a row: one BLAS product
    # instead of gathering n x MIX_SEEDS seed rows.
    weights = np.zeros((n, seeds.shape[0]), dtype=np.float32)
    picks = rng.integers(0, seeds.shape[0], (n, MIX_SEEDS))
    np.add.at(weights, (np.arange(n)[:, None], picks), rng.standard_normal(picks.shape, np.float32))
    mix = weights @ seeds
    norms = np.linalg.norm(mix, axis=1, keepdims=True)
    noise = rng.standard_normal(mix.shape, dtype=np.float32)
    mix += NOISE * norms * noise / np.sqrt(seeds.shape[1])
    mix /= np.linalg.norm(mix, axis=1, keepdims=True)
    return mix


def pair_scores(
    vectors: NDArray[np.float32], people: NDArray[np.int64]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """All same-person and different-person cosines among the real photos."""
    scores = vectors @ vectors.T
    upper = np.triu(np.ones(scores.shape, dtype=bool), k=1)
    same = people[:, None] == people[None, :]
    return scores[upper & same], scores[upper & ~same]


def closeness(
    distractors: NDArray[np.float32], queries: NDArray[np.float32], different: NDArray[np.float32]
) -> dict[str, float]:
    """Distractor-to-query cosines next to real different-person cosines."""
    top = np.empty(0, dtype=np.float32)
    # Keep only each chunk's highest scores: the whole (n x queries) matrix is 1 GB at 1M.
    keep = max(1, (distractors.shape[0] * queries.shape[0]) // 1000)
    for start in range(0, distractors.shape[0], _BATCH):
        chunk = (distractors[start : start + _BATCH] @ queries.T).ravel()
        top = np.concatenate([top, np.partition(chunk, -min(keep, chunk.size))[-keep:]])
        top = np.partition(top, -min(keep, top.size))[-keep:]
    return {
        "distractor_query_max": round(float(top.max()), 4),
        "distractor_query_p99_9": round(float(top.min()), 4),
        "real_different_max": round(float(different.max()), 4),
        "real_different_p99_9": round(float(np.percentile(different, 99.9)), 4),
    }

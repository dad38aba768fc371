"""Scores of a gallery against itself, as a search sees them (for threshold calibration).

Each enrolled face is treated as a probe: its impostor scores are its best scores against
the faces of *other* people (a search answers per person, so only the best counts), its
genuine score is its best against the other faces of its own person. A face's own person
left out, the rest of the gallery is what a stranger's photo would be searched against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# A probe keeps its few best impostor scores: when the best one is left out as "probably
# the same person enrolled twice", the next one is what a search would then see.
KEEP_IMPOSTORS = 8
# Probes scored per matrix product: 256 probes x 100,000 faces is a 100 MB block.
PROBE_BLOCK = 256


@dataclass(frozen=True)
class GalleryScores:
    faces: int
    people: int
    # (probes, KEEP_IMPOSTORS) best impostor scores of each probe, highest first; -inf pads
    # when the gallery has fewer other faces.
    impostors: NDArray[np.float32]
    # Best same-person score of each probe that has another face of its person (NaN if not).
    genuine_best: NDArray[np.float32]
    # Every same-person pair score seen from the probes (each unordered pair once or twice).
    genuine_pairs: NDArray[np.float32]


def gallery_scores(
    person_ids: NDArray[np.int64],
    vectors: NDArray[np.float32],
    max_probes: int,
    seed: int = 0,
) -> GalleryScores:
    """Score up to `max_probes` faces (a seeded sample when there are more) against all."""
    count = int(person_ids.size)
    probes = np.arange(count)
    if count > max_probes:
        probes = np.sort(np.random.default_rng(seed).choice(count, max_probes, replace=False))
    impostors, genuine_best, genuine_pairs = [], [], []
    for start in range(0, probes.size, PROBE_BLOCK):
        block = probes[start : start + PROBE_BLOCK]
        scores = vectors[block] @ vectors.T
        same = person_ids[block][:, None] == person_ids[None, :]
        scores[np.arange(block.size), block] = -np.inf  # a face against itself
        impostors.append(_top(np.where(same, -np.inf, scores), KEEP_IMPOSTORS))
        own = np.where(same, scores, -np.inf)
        best = own.max(axis=1) if count else np.empty(0, dtype=np.float32)
        genuine_best.append(np.where(np.isfinite(best), best, np.nan).astype(np.float32))
        genuine_pairs.append(own[np.isfinite(own)])
    return GalleryScores(
        faces=count,
        people=int(np.unique(person_ids).size),
        impostors=_joined(impostors, (0, KEEP_IMPOSTORS)),
        genuine_best=_joined(genuine_best, (0,)),
        genuine_pairs=_joined(genuine_pairs, (0,)),
    )


def _top(scores: NDArray[np.float32], keep: int) -> NDArray[np.float32]:
    """The `keep` highest of each row, highest first, padded with -inf."""
    if scores.shape[1] < keep:
        pad = np.full((scores.shape[0], keep - scores.shape[1]), -np.inf, dtype=np.float32)
        scores = np.hstack([scores, pad])
    part = np.partition(scores, scores.shape[1] - keep, axis=1)[:, -keep:]
    return np.sort(part, axis=1)[:, ::-1].astype(np.float32)


def _joined(parts: list[NDArray[np.float32]], empty: tuple[int, ...]) -> NDArray[np.float32]:
    return np.concatenate(parts).astype(np.float32) if parts else np.empty(empty, np.float32)

"""Identification and verification metrics over embedded photos."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class EmbeddedPhoto:
    identity: str
    name: str
    embedding: NDArray[np.float32]


@dataclass
class Identification:
    probes: int = 0
    rank1_correct: int = 0
    accepted_correct: int = 0  # right person first AND above the threshold
    misses: list[dict[str, object]] = field(default_factory=list)

    @property
    def rank1(self) -> float:
        return self.rank1_correct / self.probes if self.probes else 0.0


def identify_first_enrolled(photos: list[EmbeddedPhoto], threshold: float) -> Identification:
    """Enroll each identity's first photo, identify every other photo among all identities."""
    gallery: dict[str, EmbeddedPhoto] = {}
    probes: list[EmbeddedPhoto] = []
    for photo in photos:
        if photo.identity in gallery:
            probes.append(photo)
        else:
            gallery[photo.identity] = photo
    names = list(gallery)
    matrix = np.stack([gallery[n].embedding for n in names])
    result = Identification()
    for probe in probes:
        scores = matrix @ probe.embedding
        best = int(np.argmax(scores))
        result.probes += 1
        if names[best] == probe.identity:
            result.rank1_correct += 1
            result.accepted_correct += int(scores[best] >= threshold)
        else:
            result.misses.append(
                {"photo": probe.name, "got": names[best], "score": round(float(scores[best]), 4)}
            )
    return result


@dataclass(frozen=True)
class PairScores:
    same: NDArray[np.float32]
    different: NDArray[np.float32]


def all_pairs(photos: list[EmbeddedPhoto]) -> PairScores:
    """Every unordered pair of photos, split by same or different identity."""
    matrix = np.stack([p.embedding for p in photos])
    sims = matrix @ matrix.T
    labels = np.array([p.identity for p in photos])
    upper = np.triu_indices(len(photos), k=1)
    same_mask = labels[upper[0]] == labels[upper[1]]
    scores = sims[upper]
    return PairScores(same=scores[same_mask], different=scores[~same_mask])


# Scores of this model lie in about -0.2..1; 0.02-wide bins resolve the gap near 0.3.
HISTOGRAM_EDGES = np.round(np.arange(-0.3, 1.0 + 1e-9, 0.02), 2)


def score_histogram(pairs: PairScores) -> dict[str, list[float] | list[int]]:
    """Counts of same- and different-person scores per bin, for plotting a run against
    another (the edges are fixed so two reports' histograms line up)."""
    edges = HISTOGRAM_EDGES
    same, _ = np.histogram(np.clip(pairs.same, edges[0], edges[-1]), edges)
    different, _ = np.histogram(np.clip(pairs.different, edges[0], edges[-1]), edges)
    return {
        "edges": [float(e) for e in edges],
        "same": [int(c) for c in same],
        "different": [int(c) for c in different],
    }


def accuracy_at(pairs: PairScores, threshold: float) -> float:
    correct = int(np.sum(pairs.same >= threshold)) + int(np.sum(pairs.different < threshold))
    return correct / (pairs.same.size + pairs.different.size)


def balanced_accuracy_at(pairs: PairScores, threshold: float) -> float:
    """Mean of true-accept and true-reject rates: different pairs vastly outnumber same ones."""
    tar = float(np.mean(pairs.same >= threshold)) if pairs.same.size else 0.0
    trr = float(np.mean(pairs.different < threshold)) if pairs.different.size else 0.0
    return (tar + trr) / 2


def threshold_sweep(pairs: PairScores, step: float = 0.01) -> list[dict[str, float]]:
    rows = []
    for threshold in np.arange(0.0, 0.8 + 1e-9, step):
        t = float(round(threshold, 4))
        rows.append(
            {
                "threshold": t,
                "accuracy": accuracy_at(pairs, t),
                "balanced_accuracy": balanced_accuracy_at(pairs, t),
                "false_accept_rate": float(np.mean(pairs.different >= t)),
                "false_reject_rate": float(np.mean(pairs.same < t)),
            }
        )
    return rows


def best_threshold_range(rows: list[dict[str, float]], key: str) -> tuple[float, float, float]:
    """The lowest and highest threshold reaching the best score, and that score."""
    best = max(r[key] for r in rows)
    tied = [r["threshold"] for r in rows if r[key] >= best - 1e-12]
    return min(tied), max(tied), best


def per_identity_counts(photos: list[EmbeddedPhoto]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for photo in photos:
        counts[photo.identity] += 1
    return dict(counts)

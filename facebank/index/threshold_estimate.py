"""The threshold for a target false-accept rate per search, estimated from gallery scores.

Two traps, both measured on a 4,900-person benchmark (issue 15), decide the method:
- The highest "different person" scores inside a real gallery are mostly the same person
  enrolled twice or a mislabel. Taken at face value they push the threshold far too high.
  So a different-person pair is left out when it looks like a same-person pair *and* is an
  outlier among impostors: at or above both the 5th percentile of this gallery's
  same-person scores and the median best-impostor score plus 6 robust standard deviations
  (1.4826 x MAD). Either rule alone can cut real impostors; together they only cut pairs
  that are far off the impostor curve and typical of genuine ones.
- Impostor scores have a heavier upper tail than a normal curve, so a fitted normal puts
  the threshold too low. No curve is fitted to the body: where the gallery has enough
  probes (at least MIN_TAIL above the wanted quantile) the empirical quantile is used;
  below that the tail is extrapolated with an exponential (peaks over a threshold, the
  generalised Pareto with shape 0), fitted to the highest MIN_TAIL or 10% of the scores.
  An exponential tail is heavier than a normal one, so it errs towards a higher threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from facebank.errors import CalibrationUnavailableError
from facebank.index.gallery_scores import GalleryScores

GENUINE_LOW_QUANTILE = 0.05
ROBUST_SIGMAS = 6.0
MAD_TO_SIGMA = 1.4826
MIN_TAIL = 10  # scores above a quantile needed to read it off, or to fit the tail to
TAIL_FRACTION = 0.1
MIN_PROBES = 20  # faces with someone else to compare to: fewer is no distribution
EMPIRICAL = "empirical"
EXPONENTIAL_TAIL = "exponential_tail"


@dataclass(frozen=True)
class Recommendation:
    target_far: float
    threshold: float
    estimated_tar: float | None  # of enrolled people's faces: named, rightly, at threshold
    method: str


@dataclass(frozen=True)
class Estimate:
    faces: int
    people: int
    probes: int  # faces whose best impostor score went into the estimate
    genuine_probes: int  # faces with another face of their own person (for the TAR)
    excluded_pairs: int  # different-person pairs left out as probably the same person
    exclusion_cut: float
    highest_impostor: float  # after leaving those out
    lowest_genuine: float | None
    recommendations: list[Recommendation]


def estimate(scores: GalleryScores, target_fars: list[float]) -> Estimate:
    raw_best = scores.impostors[:, 0] if scores.impostors.size else np.empty(0, np.float32)
    searchable = np.isfinite(raw_best)
    if int(searchable.sum()) < MIN_PROBES:
        raise CalibrationUnavailableError(
            f"calibration needs at least {MIN_PROBES} faces of at least 2 people; "
            f"the gallery has {scores.faces} faces of {scores.people} people",
            faces=scores.faces,
            people=scores.people,
        )
    cut = exclusion_cut(raw_best[searchable], scores.genuine_pairs)
    best, excluded = _best_below(scores.impostors, cut)
    kept = best[np.isfinite(best)]
    if kept.size < MIN_PROBES:
        raise CalibrationUnavailableError(
            "too few faces remain once likely duplicates are left out", faces=scores.faces
        )
    genuine = np.isfinite(scores.genuine_best)
    recommendations = []
    for far in target_fars:
        threshold, method = threshold_for(kept, far)
        recommendations.append(
            Recommendation(far, threshold, _tar(scores.genuine_best, best, threshold), method)
        )
    pairs = scores.genuine_pairs
    return Estimate(
        faces=scores.faces,
        people=scores.people,
        probes=int(kept.size),
        genuine_probes=int(genuine.sum()),
        excluded_pairs=excluded,
        exclusion_cut=round(cut, 4),
        highest_impostor=round(float(kept.max()), 4),
        lowest_genuine=round(float(pairs.min()), 4) if pairs.size else None,
        recommendations=recommendations,
    )


def exclusion_cut(best_impostors: NDArray[np.float32], genuine_pairs: NDArray[np.float32]) -> float:
    """Scores at or above this are left out as probably the same person (module docstring)."""
    median = float(np.median(best_impostors))
    mad = float(np.median(np.abs(best_impostors - median)))
    robust = median + ROBUST_SIGMAS * MAD_TO_SIGMA * mad
    if genuine_pairs.size == 0:
        return robust
    return max(robust, float(np.quantile(genuine_pairs, GENUINE_LOW_QUANTILE)))


def threshold_for(best_impostors: NDArray[np.float32], target_far: float) -> tuple[float, str]:
    """The lowest threshold (4 decimals) at which at most `target_far` of the probes'
    best impostor scores reach it, and how it was found."""
    ordered = np.sort(best_impostors)[::-1]
    count = ordered.size
    allowed = math.floor(target_far * count)  # false accepts the target allows
    if count * target_far >= MIN_TAIL:
        return _just_above(float(ordered[allowed])), EMPIRICAL
    tail = min(count - 1, max(MIN_TAIL, math.ceil(TAIL_FRACTION * count)))
    floor = float(ordered[tail])
    scale = float(np.mean(ordered[:tail] - floor))
    return _just_above(floor + scale * math.log((tail / count) / target_far)), EXPONENTIAL_TAIL


def _best_below(impostors: NDArray[np.float32], cut: float) -> tuple[NDArray[np.float32], int]:
    """Each probe's best impostor score below `cut` (-inf if none), and how many were cut."""
    below = impostors < cut
    excluded = int(np.sum(np.isfinite(impostors) & ~below))
    first = np.argmax(below, axis=1)
    best = np.where(below.any(axis=1), impostors[np.arange(len(impostors)), first], -np.inf)
    return best.astype(np.float32), excluded


def _tar(
    genuine_best: NDArray[np.float32], impostor_best: NDArray[np.float32], threshold: float
) -> float | None:
    """Share of faces with another photo of their person that a search would name rightly."""
    has = np.isfinite(genuine_best)
    if not has.any():
        return None
    named = (genuine_best >= threshold) & (genuine_best > impostor_best)
    return round(float(np.mean(named[has])), 4)


def _just_above(score: float) -> float:
    return math.floor(score * 10_000 + 1) / 10_000

"""The calibration estimator checked against held-out strangers, not against itself.

Each split enrolls a random half of the identities (all their photos but one, which is kept
back as a probe of an enrolled person) and holds the other half out as strangers. The
threshold the gallery recommends for each target false-accept rate is then tried on photos
the gallery never saw: the strangers' photos (real false accepts: any name given) and the
kept-back photos (real true accepts: the right name, at or above the threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from facebank.evaluation.metrics import EmbeddedPhoto
from facebank.index.gallery_scores import gallery_scores
from facebank.index.threshold_estimate import estimate

MAX_PROBES = 20_000


@dataclass
class TargetResult:
    target_far: float
    thresholds: list[float]
    estimated_tars: list[float | None]
    strangers: int = 0
    false_accepts: int = 0
    enrolled_probes: int = 0
    true_accepts: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "target_far": self.target_far,
            "threshold_mean": round(float(np.mean(self.thresholds)), 4),
            "threshold_range": [min(self.thresholds), max(self.thresholds)],
            "estimated_tar_mean": _mean(self.estimated_tars),
            "stranger_probes": self.strangers,
            "false_accepts": self.false_accepts,
            "real_far": round(self.false_accepts / max(1, self.strangers), 4),
            "enrolled_probes": self.enrolled_probes,
            "real_tar": round(self.true_accepts / max(1, self.enrolled_probes), 4),
        }


@dataclass(frozen=True)
class Split:
    gallery: list[EmbeddedPhoto]
    enrolled_probes: list[EmbeddedPhoto]
    strangers: list[EmbeddedPhoto]


def split(photos: list[EmbeddedPhoto], seed: int) -> Split:
    """A random half of the identities enrolled (one photo each kept back), the rest strangers."""
    identities = sorted({p.identity for p in photos})
    order = np.random.default_rng(seed).permutation(len(identities))
    enrolled = {identities[i] for i in order[: len(identities) // 2]}
    gallery: list[EmbeddedPhoto] = []
    kept_back: list[EmbeddedPhoto] = []
    strangers: list[EmbeddedPhoto] = []
    seen: dict[str, int] = {}
    counts = {i: sum(p.identity == i for p in photos) for i in enrolled}
    for photo in photos:
        if photo.identity not in enrolled:
            strangers.append(photo)
            continue
        seen[photo.identity] = seen.get(photo.identity, 0) + 1
        last = seen[photo.identity] == counts[photo.identity]
        (kept_back if last and counts[photo.identity] > 1 else gallery).append(photo)
    return Split(gallery, kept_back, strangers)


def check_calibration(
    photos: list[EmbeddedPhoto], target_fars: list[float], splits: int
) -> dict[str, object]:
    results = [TargetResult(far, [], []) for far in target_fars]
    for seed in range(splits):
        part = split(photos, seed)
        names = sorted({p.identity for p in part.gallery})
        person_ids = np.array([names.index(p.identity) for p in part.gallery], dtype=np.int64)
        vectors = _vectors(part.gallery)
        measured = estimate(gallery_scores(person_ids, vectors, MAX_PROBES), target_fars)
        stranger_best = (_vectors(part.strangers) @ vectors.T).max(axis=1)
        probe_scores = _vectors(part.enrolled_probes) @ vectors.T
        best_at = probe_scores.argmax(axis=1)
        right = person_ids[best_at] == np.array(
            [names.index(p.identity) for p in part.enrolled_probes], dtype=np.int64
        )
        probe_best = probe_scores.max(axis=1)
        for result, rec in zip(results, measured.recommendations, strict=True):
            result.thresholds.append(rec.threshold)
            result.estimated_tars.append(rec.estimated_tar)
            result.strangers += int(stranger_best.size)
            result.false_accepts += int(np.sum(stranger_best >= rec.threshold))
            result.enrolled_probes += int(probe_best.size)
            result.true_accepts += int(np.sum(right & (probe_best >= rec.threshold)))
    whole = _whole_gallery(photos, target_fars)
    return {
        "photos": len(photos),
        "identities": len({p.identity for p in photos}),
        "splits": splits,
        "held_out": [r.summary() for r in results],
        "whole_gallery": whole,
    }


def format_check(report: dict[str, object]) -> str:
    lines = [
        f"{report['photos']} photos of {report['identities']} identities; "
        f"{report['splits']} splits, half the identities held out as strangers each time"
    ]
    held_out = report["held_out"]
    assert isinstance(held_out, list)
    for row in held_out:
        lines.append(
            f"target FAR {row['target_far']:.2%}: threshold {row['threshold_mean']} "
            f"(range {row['threshold_range'][0]}-{row['threshold_range'][1]}); strangers named "
            f"{row['false_accepts']}/{row['stranger_probes']} = {row['real_far']:.2%}; "
            f"enrolled named rightly {row['real_tar']:.2%} (estimated "
            f"{_pct(row['estimated_tar_mean'])})"
        )
    whole = report["whole_gallery"]
    assert isinstance(whole, dict)
    lines.append(
        "whole set enrolled: "
        + ", ".join(f"{r['target_far']:.2%} -> {r['threshold']}" for r in whole["recommendations"])
        + f" (highest different-person {whole['highest_impostor']}, lowest same-person "
        f"{whole['lowest_genuine']})"
    )
    return "\n".join(lines)


def _whole_gallery(photos: list[EmbeddedPhoto], target_fars: list[float]) -> dict[str, object]:
    names = sorted({p.identity for p in photos})
    person_ids = np.array([names.index(p.identity) for p in photos], dtype=np.int64)
    measured = estimate(gallery_scores(person_ids, _vectors(photos), MAX_PROBES), target_fars)
    return {
        "recommendations": [r.__dict__ for r in measured.recommendations],
        "highest_impostor": measured.highest_impostor,
        "lowest_genuine": measured.lowest_genuine,
        "excluded_pairs": measured.excluded_pairs,
    }


def _vectors(photos: list[EmbeddedPhoto]) -> NDArray[np.float32]:
    return np.ascontiguousarray(np.stack([p.embedding for p in photos]), dtype=np.float32)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(float(np.mean(known)), 4) if known else None


def _pct(value: object) -> str:
    return "n/a" if not isinstance(value, float) else f"{value:.2%}"

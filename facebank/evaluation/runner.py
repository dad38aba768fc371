"""`facebank eval`: accuracy of the pipeline on folders of labelled photos."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from facebank.errors import FacebankError
from facebank.evaluation.dataset import load_identities
from facebank.evaluation.metrics import (
    EmbeddedPhoto,
    accuracy_at,
    all_pairs,
    balanced_accuracy_at,
    best_threshold_range,
    identify_first_enrolled,
    score_histogram,
    threshold_sweep,
)
from facebank.pipeline.pipeline import FacePipeline


def embed_dataset(
    pipeline: FacePipeline, root: Path
) -> tuple[list[EmbeddedPhoto], list[dict[str, str]]]:
    """Embed the largest face of each photo; photos with no usable face are listed apart."""
    embedded, failed = [], []
    for item in load_identities(root):
        name = f"{item.identity}/{item.path.name}"
        try:
            _, faces = pipeline.analyze(item.path.read_bytes(), 1)
        except FacebankError as exc:
            failed.append({"photo": name, "error": exc.code})
            continue
        if not faces:
            failed.append({"photo": name, "error": "no_face"})
            continue
        embedded.append(EmbeddedPhoto(item.identity, name, faces[0].embedding))
    return embedded, failed


def embed_roots(pipeline: FacePipeline, roots: list[Path]) -> list[EmbeddedPhoto]:
    """The photos of several datasets as one set; identities are named `<root>/<identity>`,
    since one dataset's "id01" is not another's. Photos without a face are left out."""
    photos = []
    for root in roots:
        embedded, _ = embed_dataset(pipeline, root)
        photos += [
            EmbeddedPhoto(f"{root.name}/{p.identity}", p.name, p.embedding) for p in embedded
        ]
    return photos


def evaluate(pipeline: FacePipeline, root: Path, threshold: float) -> dict[str, Any]:
    started = time.perf_counter()
    photos, failed = embed_dataset(pipeline, root)
    embed_seconds = time.perf_counter() - started
    ident = identify_first_enrolled(photos, threshold)
    pairs = all_pairs(photos)
    sweep = threshold_sweep(pairs)
    low, high, best = best_threshold_range(sweep, "accuracy")
    b_low, b_high, b_best = best_threshold_range(sweep, "balanced_accuracy")
    return {
        "dataset": str(root),
        "model_id": pipeline.model_id,
        "photos": len(photos) + len(failed),
        "identities": len({p.identity for p in photos}),
        "no_face": failed,
        "seconds_per_photo": round(embed_seconds / max(1, len(photos) + len(failed)), 4),
        "identification": {
            "probes": ident.probes,
            "rank1": round(ident.rank1, 4),
            "rank1_above_threshold": round(ident.accepted_correct / max(1, ident.probes), 4),
            "misses": ident.misses,
        },
        "verification": {
            "same_pairs": int(pairs.same.size),
            "different_pairs": int(pairs.different.size),
            "threshold": threshold,
            "accuracy": round(accuracy_at(pairs, threshold), 4),
            "balanced_accuracy": round(balanced_accuracy_at(pairs, threshold), 4),
            "best_accuracy": round(best, 4),
            "best_accuracy_thresholds": [low, high],
            "best_balanced_accuracy": round(b_best, 4),
            "best_balanced_thresholds": [b_low, b_high],
            "same_score_min": round(float(pairs.same.min()), 4) if pairs.same.size else None,
            "different_score_max": (
                round(float(pairs.different.max()), 4) if pairs.different.size else None
            ),
        },
        "sweep": sweep,
        "histogram": score_histogram(pairs),
    }


def format_report(report: dict[str, Any]) -> str:
    ident, verif = report["identification"], report["verification"]
    lines = [
        f"dataset {report['dataset']}: {report['photos']} photos, "
        f"{report['identities']} identities, {len(report['no_face'])} without a face, "
        f"{report['seconds_per_photo'] * 1000:.0f} ms/photo",
        f"identification (first photo enrolled): rank-1 {ident['rank1']:.2%} "
        f"of {ident['probes']} probes; right AND above threshold "
        f"{ident['rank1_above_threshold']:.2%}",
        f"verification at {verif['threshold']}: accuracy {verif['accuracy']:.2%} "
        f"({verif['same_pairs']} same, {verif['different_pairs']} different pairs), "
        f"balanced {verif['balanced_accuracy']:.2%}",
        f"best accuracy {verif['best_accuracy']:.2%} for thresholds "
        f"{verif['best_accuracy_thresholds'][0]:.2f}-{verif['best_accuracy_thresholds'][1]:.2f}; "
        f"best balanced {verif['best_balanced_accuracy']:.2%} for "
        f"{verif['best_balanced_thresholds'][0]:.2f}-{verif['best_balanced_thresholds'][1]:.2f}",
        f"lowest same-person score {verif['same_score_min']}, "
        f"highest different-person score {verif['different_score_max']}",
    ]
    for miss in ident["misses"]:
        lines.append(f"  miss: {miss['photo']} -> {miss['got']} ({miss['score']})")
    for fail in report["no_face"]:
        lines.append(f"  no face: {fail['photo']} ({fail['error']})")
    return "\n".join(lines)

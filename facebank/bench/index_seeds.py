"""Real face embeddings for the index bench: every photo of ../shared/faces embedded once by
the service's own pipeline, cached as .npz in the bench's work directory (never the repo)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facebank.config import Settings

log = logging.getLogger(__name__)

DEFAULT_FACES = Path("../shared/faces")
# Identity folders: <root>/<set>/<identity>/<photo>. Group photos have no labels, so they
# cannot serve as queries with known mates.
LABELLED_SETS = ("people", "yale")


@dataclass(frozen=True)
class Seeds:
    vectors: NDArray[np.float32]  # (n, 512), unit rows
    people: NDArray[np.int64]  # (n,) 0.. identity index
    names: list[str]  # "<set>/<identity>/<photo>"


def load_seeds(faces_root: Path, work_dir: Path, settings: Settings) -> Seeds:
    """Cached embeddings if present for this model, else embed the photos and cache them."""
    from facebank.pipeline.factory import build_pipeline

    pipeline = build_pipeline(settings)
    cache = work_dir / f"seeds-{pipeline.model_id}.npz"
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        return Seeds(data["vectors"], data["people"], [str(n) for n in data["names"]])
    seeds = _embed(pipeline, faces_root)
    work_dir.mkdir(parents=True, exist_ok=True)
    np.savez(cache, vectors=seeds.vectors, people=seeds.people, names=np.array(seeds.names))
    return seeds


def _embed(pipeline: object, faces_root: Path) -> Seeds:
    from facebank.evaluation.runner import embed_dataset
    from facebank.pipeline.pipeline import FacePipeline

    assert isinstance(pipeline, FacePipeline)
    vectors: list[NDArray[np.float32]] = []
    people: list[int] = []
    names: list[str] = []
    identities: dict[str, int] = {}
    for subset in LABELLED_SETS:
        photos, failed = embed_dataset(pipeline, faces_root / subset)
        if failed:
            log.info("%d photos in %s had no usable face", len(failed), subset)
        for photo in photos:
            person = identities.setdefault(f"{subset}/{photo.identity}", len(identities))
            vectors.append(np.asarray(photo.embedding, dtype=np.float32))
            people.append(person)
            names.append(f"{subset}/{photo.name}")
    matrix = np.stack(vectors).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return Seeds(matrix, np.array(people, dtype=np.int64), names)

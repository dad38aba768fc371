"""The face sets `facebank eval-clusters` clusters: every photo of each labelled root taken as
an unknown (embedded as `facebank eval` embeds them), plus faces of no known identity."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facebank.evaluation.cluster_sweep import FaceSet
from facebank.evaluation.clusters import UnknownFace
from facebank.evaluation.dataset import PHOTO_SUFFIXES
from facebank.evaluation.runner import embed_roots
from facebank.pipeline.pipeline import FacePipeline


def labelled_sets(pipeline: FacePipeline, roots: Sequence[Path]) -> list[FaceSet]:
    """One set per root, and all roots together when there are several (more strangers for
    each person to be told apart from)."""
    sets = []
    for root in roots:
        photos = embed_roots(pipeline, [root])
        sets.append(
            FaceSet(root.name, [UnknownFace(p.identity, p.name, p.embedding) for p in photos])
        )
    if len(sets) > 1:
        sets.append(FaceSet("all", [face for s in sets for face in s.faces]))
    return sets


def every_face(pipeline: FacePipeline, folder: Path) -> list[UnknownFace]:
    """Every face of every photo in `folder` (group photos), with no identity: they are
    clustered with the others, and may join or bridge their clusters, but are not scored."""
    faces = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES):
        _, found = pipeline.analyze(path.read_bytes())
        faces += [
            UnknownFace(None, f"{path.name}#{i}", face.embedding) for i, face in enumerate(found)
        ]
    return faces


def as_unlabelled(vectors: NDArray[np.float32], prefix: str) -> list[UnknownFace]:
    return [UnknownFace(None, f"{prefix}{i}", v) for i, v in enumerate(vectors)]


def with_extra(sets: Sequence[FaceSet], extra: Sequence[UnknownFace]) -> list[FaceSet]:
    """Each set with the same unlabelled faces added."""
    return [FaceSet(s.name, [*s.faces, *extra]) for s in sets]


def real_vectors(sets: Sequence[FaceSet]) -> tuple[NDArray[np.float32], float]:
    """The labelled faces' unit vectors (of the last, widest set) and their lowest
    same-person cosine: what synthetic distractors are made from and kept below."""
    faces = [f for f in sets[-1].faces if f.label is not None]
    vectors = np.stack([np.asarray(f.embedding, np.float32) for f in faces])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.array([f.label for f in faces])
    scores = vectors @ vectors.T
    same = (labels[:, None] == labels[None, :]) & ~np.eye(len(faces), dtype=bool)
    return vectors, float(scores[same].min()) if same.any() else 1.0

"""Moving "not this person" labels to the running model pack, from their stored crops.

The face is aligned from its stored landmarks (in the crop) rather than detected again: a
crop is small and its face may sit at an edge, and alignment needs nothing else. Runs with
the gallery's re-embedding (services/reembed.py), so a label keeps working after a switch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from facebank.errors import FacebankError
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import Detection
from facebank.services.negative_search import NegativeCache
from facebank.store.media import MediaStore
from facebank.store.negatives import FaceGeometry, NegativeRecord, NegativeRepository
from facebank.store.vectors import encode_embedding

log = logging.getLogger(__name__)


@dataclass
class NegativeReembedReport:
    reembedded: int = 0
    failed: list[dict[str, object]] = field(default_factory=list)


class NegativeReembedder:
    def __init__(
        self,
        pipeline: FacePipeline,
        repo: NegativeRepository,
        media: MediaStore,
        cache: NegativeCache,
    ) -> None:
        self._pipeline = pipeline
        self._repo = repo
        self._media = media
        self._cache = cache

    def run(self, batch: int = 100) -> NegativeReembedReport:
        report = NegativeReembedReport()
        skipped: set[int] = set()
        model_id = self._pipeline.model_id
        while True:
            pending = [
                n
                for n in self._repo.other_model(model_id, batch + len(skipped))
                if n.id not in skipped
            ]
            if not pending:
                break
            for negative in pending:
                try:
                    self._reembed(negative)
                    report.reembedded += 1
                except FacebankError as exc:
                    skipped.add(negative.id)
                    report.failed.append({"negative_id": negative.id, "error": exc.code})
                    log.warning("negative label %d not re-embedded: %s", negative.id, exc.message)
        self._cache.refresh()
        return report

    def _reembed(self, negative: NegativeRecord) -> None:
        crop = self._media.read(negative.media_ref)
        geometry = embed_crop(self._pipeline, crop, negative.box, negative.landmarks)
        self._repo.replace_embedding(negative.id, geometry)


def embed_crop(
    pipeline: FacePipeline, crop: bytes, box: list[float], landmarks: list[list[float]]
) -> FaceGeometry:
    """A label's face embedded by `pipeline` from its stored crop, aligned by the landmarks
    it keeps (also how a restore under another model pack moves the archive's labels)."""
    image = pipeline.decode(crop)
    x1, y1, x2, y2 = (float(v) for v in box)
    detection = Detection(
        box=(x1, y1, x2, y2),
        landmarks=np.asarray(landmarks, dtype=np.float32),
        score=1.0,  # not used for alignment or embedding
    )
    face = pipeline.embed(image, [detection])[0]
    return FaceGeometry(
        pipeline.model_id,
        encode_embedding(face.embedding),
        int(face.embedding.size),
        box,
        landmarks,
    )

"""Re-embedding stored photos after the model pack changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from facebank.errors import FacebankError, NoFaceError
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import Detection
from facebank.services.index_sync import IndexManager
from facebank.services.negative_reembed import NegativeReembedder
from facebank.services.photos import new_face_record
from facebank.store.media import MediaStore
from facebank.store.people import FaceRecord, FaceRepository

log = logging.getLogger(__name__)

# The new detector's box for the same face overlaps the stored one far more than this.
MIN_SAME_FACE_IOU = 0.3


@dataclass
class ReembedReport:
    reembedded: int = 0
    failed: list[dict[str, object]] = field(default_factory=list)
    # "Not this person" labels moved along with the faces (services/negative_reembed.py).
    negatives_reembedded: int = 0
    negatives_failed: list[dict[str, object]] = field(default_factory=list)


class Reembedder:
    """Moves faces of other model packs to the running one, from their original photos."""

    def __init__(
        self, pipeline: FacePipeline, faces: FaceRepository, media: MediaStore, index: IndexManager,
        negatives: NegativeReembedder | None = None,
    ) -> None:  # fmt: skip
        self._pipeline = pipeline
        self._negatives = negatives
        self._faces = faces
        self._media = media
        self._index = index

    def run(self, batch: int = 100) -> ReembedReport:
        report = ReembedReport()
        skipped: set[int] = set()
        while True:
            pending = [
                f
                for f in self._faces.other_model_faces(
                    self._pipeline.model_id, batch + len(skipped)
                )
                if f.id not in skipped
            ]
            if not pending:
                self._move_negatives(report)
                return report
            for face in pending:
                try:
                    self._reembed(face)
                    report.reembedded += 1
                except FacebankError as exc:
                    skipped.add(face.id)
                    report.failed.append({"face_id": face.id, "error": exc.code})
                    log.warning("face %d not re-embedded: %s", face.id, exc.message)

    def _move_negatives(self, report: ReembedReport) -> None:
        if self._negatives is not None:
            moved = self._negatives.run()
            report.negatives_reembedded = moved.reembedded
            report.negatives_failed = moved.failed

    def _reembed(self, face: FaceRecord) -> None:
        image = self._pipeline.decode(self._media.read(face.media_ref))
        detection = _same_face(self._pipeline.detect(image), face.box)
        embedded = self._pipeline.embed(image, [detection])[0]
        record = self._faces.replace_embedding(
            face.id, new_face_record(embedded, image, face.media_ref, self._pipeline.model_id)
        )
        vector = np.asarray(embedded.embedding, dtype=np.float32)[None, :]
        self._index.add([record.id], [record.person_id], vector)


def _same_face(detections: list[Detection], box: list[float]) -> Detection:
    """The new detection of the face that was enrolled: the one overlapping its old box."""
    best = max(detections, key=lambda d: _iou(d.box, box), default=None)
    if best is None or _iou(best.box, box) < MIN_SAME_FACE_IOU:
        raise NoFaceError("the enrolled face is not found in its photo by the current detector")
    return best


def _iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0

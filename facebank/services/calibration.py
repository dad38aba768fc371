"""Calibrating the match threshold from the gallery itself (issue 15): measure what
threshold gives a target false-accept rate per search, and apply one for every worker.

The method and its two traps are described in facebank.index.threshold_estimate; the
scores are the gallery's own, as a search sees them (facebank.index.gallery_scores).
"""

from __future__ import annotations

import numpy as np

from facebank.auth.principal import Principal
from facebank.config import Settings
from facebank.errors import ValidationFailedError
from facebank.index.gallery_scores import gallery_scores
from facebank.index.threshold_estimate import Estimate, estimate
from facebank.services.audit import Action, AuditService, Target
from facebank.services.thresholds import ThresholdSource
from facebank.store.calibrations import CalibrationRecord, CalibrationRepository, NewCalibration
from facebank.store.people import FaceRepository
from facebank.store.tx import SessionFactory

DEFAULT_TARGET_FARS = (0.01, 0.001)
MAX_TARGET_FAR = 0.5
MAX_TARGETS = 10


class CalibrationService:
    def __init__(
        self,
        faces: FaceRepository,
        repo: CalibrationRepository,
        thresholds: ThresholdSource,
        audit: AuditService,
        model_id: str,
        max_probes: int,
    ) -> None:
        self._faces = faces
        self._repo = repo
        self._thresholds = thresholds
        self._audit = audit
        self._model_id = model_id
        self._max_probes = max_probes

    @property
    def thresholds(self) -> ThresholdSource:
        return self._thresholds

    def measure(self, target_fars: list[float]) -> Estimate:
        """Recommendations for each target false-accept rate per search; changes nothing."""
        checked = validated_targets(target_fars)
        person_ids, vectors = self._gallery()
        return estimate(gallery_scores(person_ids, vectors, self._max_probes), checked)

    def apply(self, actor: Principal, target_far: float) -> CalibrationRecord:
        """Measure now and store the threshold for `target_far`: what is applied is what the
        gallery shows at this moment, never a number handed in."""
        measured = self.measure([target_far])
        chosen = measured.recommendations[0]
        record = self._repo.add(
            NewCalibration(
                model_id=self._model_id,
                threshold=chosen.threshold,
                target_far=chosen.target_far,
                estimated_tar=chosen.estimated_tar,
                method=chosen.method,
                faces=measured.faces,
                people=measured.people,
                probes=measured.probes,
                excluded_pairs=measured.excluded_pairs,
                applied_by=actor.name,
            )
        )
        self._thresholds.refresh()
        details = {"threshold": record.threshold, "target_far": record.target_far}
        self._audit.record(actor, Action.CALIBRATE, Target.INDEX, record.id, details)
        return record

    def clear(self, actor: Principal) -> float:
        """Drop the applied calibrations: every worker goes back to the configured default
        within its refresh interval. Returns that default."""
        removed = self._repo.clear(self._model_id)
        self._thresholds.refresh()
        details = {"removed": removed, "threshold": self._thresholds.default}
        self._audit.record(actor, Action.UNCALIBRATE, Target.INDEX, None, details)
        return self._thresholds.default

    def _gallery(self) -> tuple[np.ndarray, np.ndarray]:
        batches = list(self._faces.iter_embeddings(self._model_id))
        if not batches:
            return np.empty(0, np.int64), np.empty((0, 0), np.float32)
        person_ids = np.concatenate([b[1] for b in batches]).astype(np.int64)
        vectors = np.ascontiguousarray(np.concatenate([b[2] for b in batches]), np.float32)
        return person_ids, vectors


def validated_targets(target_fars: list[float]) -> list[float]:
    if not 1 <= len(target_fars) <= MAX_TARGETS:
        raise ValidationFailedError(
            f"give 1 to {MAX_TARGETS} target false-accept rates", field="target_far"
        )
    for far in target_fars:
        if not 0 < far <= MAX_TARGET_FAR:
            raise ValidationFailedError(
                f"a target false-accept rate must be in (0, {MAX_TARGET_FAR}], got {far}",
                field="target_far",
            )
    return list(target_fars)


def build_calibration(
    settings: Settings,
    sessions: SessionFactory,
    faces: FaceRepository,
    audit: AuditService,
    model_id: str,
) -> CalibrationService:
    """Calibration and the threshold source it refreshes, wired from the settings."""
    repo = CalibrationRepository(sessions)
    thresholds = ThresholdSource(
        repo, model_id, settings.match_threshold, settings.calibration_refresh_s
    )
    return CalibrationService(
        faces, repo, thresholds, audit, model_id, settings.calibration_max_probes
    )

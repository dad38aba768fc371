"""The enrollment quality gate: the minimums a face must meet before it is enrolled.

One definition used by every enrollment path (API, compat routes, bulk import). Checks run
in a fixed order, size first, because a tiny face also reads as blurred (its aligned crop
is upscaled) and the first failure is the one worth telling.
"""

from __future__ import annotations

from dataclasses import dataclass

from facebank.config import Settings
from facebank.errors import LowQualityError
from facebank.pipeline.types import Face


@dataclass(frozen=True)
class _Measured:
    check: str
    value: float
    limit: float
    is_maximum: bool  # the limit bounds |value| from above (angles), else from below
    explanation: str

    @property
    def failed(self) -> bool:
        return abs(self.value) > self.limit if self.is_maximum else self.value < self.limit


@dataclass(frozen=True)
class QualityGate:
    min_face_px: int
    min_det_score: float
    min_blur: float
    max_yaw: float
    max_pitch: float

    @classmethod
    def from_settings(cls, settings: Settings) -> QualityGate:
        return cls(
            min_face_px=settings.enroll_min_face_px,
            min_det_score=settings.enroll_min_det_score,
            min_blur=settings.enroll_min_blur,
            max_yaw=settings.enroll_max_yaw,
            max_pitch=settings.enroll_max_pitch,
        )

    def check(self, face: Face) -> None:
        """LowQualityError naming the first check the face fails, with value and limit."""
        for measured in self._measure(face):
            if measured.failed:
                bound = "maximum" if measured.is_maximum else "minimum"
                raise LowQualityError(
                    f"{measured.explanation}: {measured.check} {measured.value:.2f}, "
                    f"{bound} {measured.limit:g}",
                    check=measured.check,
                    value=round(measured.value, 2),
                    **{bound: measured.limit},
                )

    def _measure(self, face: Face) -> list[_Measured]:
        q = face.quality
        return [
            _Measured("face_px", q.face_px, self.min_face_px, False, "the face is too small"),
            _Measured(
                "det_score",
                face.detection.score,
                self.min_det_score,
                False,
                "the detector is unsure this is a face",
            ),
            _Measured("blur", q.blur, self.min_blur, False, "the face is blurred"),
            _Measured("yaw", q.yaw, self.max_yaw, True, "the face is turned sideways"),
            _Measured("pitch", q.pitch, self.max_pitch, True, "the face is tilted up or down"),
        ]

"""What the detector finds: a face box and its 5 landmarks, in plain data.

Defined here, below the pipeline, because the detector produces it; facebank.pipeline.types
re-exports it for the layers above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in original-image pixels


@dataclass(frozen=True)
class Detection:
    box: Box
    landmarks: NDArray[np.float32]  # (5, 2): left eye, right eye, nose, mouth left, mouth right
    score: float

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    def divided(self, sx: float, sy: float) -> Detection:
        """The same face with x divided by `sx` and y by `sy`: into another scale's pixels."""
        x1, y1, x2, y2 = self.box
        scale = np.array([sx, sy], dtype=np.float32)
        return Detection(
            box=(x1 / sx, y1 / sy, x2 / sx, y2 / sy),
            landmarks=(self.landmarks / scale).astype(np.float32),
            score=self.score,
        )

    def rounded(self) -> RoundedDetection:
        """The geometry as it is stored and answered: pixels to 0.01, the score to 1e-5."""
        return RoundedDetection(
            box=[round(float(v), 2) for v in self.box],
            # tolist: the same floats as float() of each element, without a numpy scalar each.
            landmarks=[[round(x, 2), round(y, 2)] for x, y in self.landmarks.tolist()],
            score=round(float(self.score), 5),
        )


@dataclass(frozen=True)
class RoundedDetection:
    box: list[float]
    landmarks: list[list[float]]
    score: float

"""The unknown face of each track (issue 12): while a track is followed, the best of its
embedded faces that matched nobody is remembered (its crop only, never the frame); when the
track ends without ever being confirmed as a person, that one face is handed over. So a
stranger standing in view for a minute is one kept face, not one per frame.

Used by one camera's recognizer, on one thread at a time, like the tracker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from facebank.pipeline.types import DecodedImage, Face
from facebank.sessions.policy import UnknownPolicy
from facebank.sessions.unknown_sink import crop_around


@dataclass(frozen=True)
class UnknownCandidate:
    crop: DecodedImage
    face: Face  # in the crop's coordinates
    seen_at: datetime  # capture time of the frame it came from
    quality: float


def face_quality(face: Face) -> float:
    """Detector confidence times the face's shorter side in pixels: larger faces carry more
    detail, and the detector's confidence already falls for blurred, turned or half-hidden
    faces, so the product picks the face a reviewer (and a later enrollment) can use."""
    return float(face.detection.score) * face.quality.face_px


@dataclass
class _TrackState:
    misses: int = 0  # embedded frames that matched nobody above the threshold
    best: UnknownCandidate | None = None
    confirmed: bool = False  # confirmed as a person at some point: never unknown


class UnknownTracks:
    def __init__(self, policy: UnknownPolicy) -> None:
        self._policy = policy
        self._tracks: dict[int, _TrackState] = {}

    def embedded(
        self, track_id: int, image: DecodedImage, face: Face, matched: bool, seen_at: datetime
    ) -> None:
        """One embedded frame of the track; `matched`: somebody scored above the threshold."""
        state = self._tracks.setdefault(track_id, _TrackState())
        if matched or state.confirmed:
            return
        state.misses += 1
        quality = face_quality(face)
        if state.best is None or quality > state.best.quality:
            crop, moved = crop_around(image, face)
            state.best = UnknownCandidate(crop, moved, seen_at, quality)

    def confirmed(self, track_id: int) -> None:
        state = self._tracks.setdefault(track_id, _TrackState())
        state.confirmed, state.best = True, None  # the crop is not needed any more

    def ended(self, track_ids: list[int]) -> list[UnknownCandidate]:
        """Forget these tracks; the best faces of those that ended unknown."""
        kept = []
        for track_id in track_ids:
            state = self._tracks.pop(track_id, None)
            if state is None or state.confirmed or state.best is None:
                continue
            if state.misses >= self._policy.min_embeds:
                kept.append(state.best)
        return kept

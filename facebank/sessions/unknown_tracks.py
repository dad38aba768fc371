"""The unknown face of each track (issue 12): while a track is followed, the best of its
embedded faces that matched nobody is remembered (its crop only, never the frame); when the
track ends without ever being confirmed as a person, that one face is handed over. So a
stranger standing in view for a minute is one kept face, not one per frame. A track that
breaks (the face turned away, or frames were dropped under load) restarts as a new track:
when that new track's face matches a face this camera kept from a track that ended at most
`rejoin_s` before it began, it is the same sighting and is not kept again.

Used by one camera's recognizer, on one thread at a time, like the tracker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

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
    began: float = math.inf  # monotonic time of its first embedded frame


@dataclass
class _Kept:
    embedding: NDArray[np.float32]
    ended: float  # monotonic time its track (or the last track rejoining it) ended


class UnknownTracks:
    def __init__(self, policy: UnknownPolicy, threshold: float) -> None:
        """`threshold`: the session's match threshold, also what makes two unknown faces
        the same person for a rejoin."""
        self._policy = policy
        self._threshold = threshold
        self._tracks: dict[int, _TrackState] = {}
        self._recent: list[_Kept] = []

    def embedded(
        self,
        track_id: int,
        image: DecodedImage,
        face: Face,
        matched: bool,
        seen_at: datetime,
        now: float,
    ) -> None:
        """One embedded frame of the track; `matched`: somebody scored above the threshold;
        `now`: the frame's monotonic time."""
        state = self._tracks.setdefault(track_id, _TrackState())
        state.began = min(state.began, now)
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

    def ended(self, track_ids: list[int], now: float) -> list[UnknownCandidate]:
        """Forget these tracks (ended at monotonic `now`); the best faces of those that
        ended unknown, less the rejoined ones."""
        kept = []
        for track_id in track_ids:
            state = self._tracks.pop(track_id, None)
            if state is None or state.confirmed or state.best is None:
                continue
            if state.misses >= self._policy.min_embeds and not self._rejoins(state, now):
                kept.append(state.best)
                self._recent.append(_Kept(state.best.face.embedding, now))
        # Forget kept faces that no live or later track can rejoin any more.
        earliest = min([now, *(t.began for t in self._tracks.values())])
        self._recent = [k for k in self._recent if earliest - k.ended <= self._policy.rejoin_s]
        return kept

    def _rejoins(self, state: _TrackState, now: float) -> bool:
        assert state.best is not None
        embedding = state.best.face.embedding
        for earlier in self._recent:
            near = state.began - earlier.ended <= self._policy.rejoin_s
            if near and float(embedding @ earlier.embedding) >= self._threshold:
                earlier.ended = now  # a chain of broken tracks stays one sighting
                return True
        return False

"""Faces followed across frames of one camera: IoU first, then nearest centre.

A track carries the identity votes of its embedded frames, so a person standing in view is
embedded a few times rather than on every frame. Not thread-safe: one camera's frames are
processed one at a time (the scheduler guarantees it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from facebank.pipeline.types import Box


@dataclass(frozen=True)
class TrackerPolicy:
    iou: float  # at least this overlap continues a track
    max_jump: float  # else a centre within this many box sizes does (fast walkers, low fps)
    max_missed: int  # frames a track may go undetected before it ends


@dataclass
class Track:
    id: int
    box: Box
    missed: int = 0
    embeds: int = 0
    last_embed_at: float = -math.inf
    votes: Counter[int] = field(default_factory=Counter)
    best_scores: dict[int, float] = field(default_factory=dict)
    person_id: int | None = None  # set once confirmed
    score: float = 0.0  # best score of the confirmed person

    def reset_identity(self) -> None:
        self.votes.clear()
        self.best_scores.clear()
        self.person_id = None
        self.score = 0.0
        self.embeds = 0


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def _area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _size(box: Box) -> float:
    return max(box[2] - box[0], box[3] - box[1], 1e-6)


def _jump(a: Box, b: Box) -> float:
    """Centre distance in units of the larger box size; inf when sizes differ too much."""
    size_a, size_b = _size(a), _size(b)
    if max(size_a, size_b) > 2 * min(size_a, size_b):
        return math.inf
    dx = (a[0] + a[2] - b[0] - b[2]) / 2
    dy = (a[1] + a[3] - b[1] - b[3]) / 2
    return math.hypot(dx, dy) / max(size_a, size_b)


class Tracker:
    def __init__(self, policy: TrackerPolicy) -> None:
        self._policy = policy
        self._tracks: list[Track] = []
        self._ended: list[Track] = []
        self._next_id = 1

    @property
    def tracks(self) -> list[Track]:
        return list(self._tracks)

    def update(self, boxes: Sequence[Box]) -> list[Track]:
        """Continue or start a track for every box; returns them aligned with `boxes`."""
        assigned: dict[int, Track] = {}
        free = list(self._tracks)
        self._match(boxes, free, assigned, lambda t, b: iou(t.box, b), self._policy.iou, True)
        self._match(
            boxes, free, assigned, lambda t, b: _jump(t.box, b), self._policy.max_jump, False
        )
        for track in free:
            track.missed += 1
        self._tracks = [t for t in free if t.missed <= self._policy.max_missed]
        self._ended += [t for t in free if t.missed > self._policy.max_missed]
        result = []
        for i, box in enumerate(boxes):
            known = assigned.get(i)
            if known is None:
                track = Track(id=self._next_id, box=box)
                self._next_id += 1
            else:
                track = known
                track.box, track.missed = box, 0
            self._tracks.append(track)
            result.append(track)
        return result

    def take_ended(self) -> list[Track]:
        """Tracks dropped (undetected for more than `max_missed` frames) since the last call."""
        ended, self._ended = self._ended, []
        return ended

    def end_all(self) -> list[Track]:
        """End every track (the camera stops): the live ones and those not yet taken."""
        ended = self.take_ended() + self._tracks
        self._tracks = []
        return ended

    @staticmethod
    def _match(
        boxes: Sequence[Box],
        free: list[Track],
        assigned: dict[int, Track],
        score: Callable[[Track, Box], float],
        limit: float,
        higher_is_better: bool,
    ) -> None:
        """Greedy assignment, best pair first; consumes matched tracks from `free`."""
        pairs = []
        for t_index, track in enumerate(free):
            for b_index, box in enumerate(boxes):
                if b_index in assigned:
                    continue
                value = score(track, box)
                if (value >= limit) if higher_is_better else (value <= limit):
                    pairs.append((value, t_index, b_index))
        pairs.sort(reverse=higher_is_better)
        used: set[int] = set()
        for _, t_index, b_index in pairs:
            if t_index in used or b_index in assigned:
                continue
            used.add(t_index)
            assigned[b_index] = free[t_index]
        free[:] = [t for i, t in enumerate(free) if i not in used]

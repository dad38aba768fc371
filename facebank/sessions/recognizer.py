"""One camera's frames -> tracked faces -> confirmed identities.

Detection runs on every frame (tracking needs it); embedding only where it can change the
answer: an unconfirmed track on its first few frames, then now and then; a confirmed track
only for a periodic re-check. A person is confirmed when the same track matched them on
`confirm_frames` embedded frames, more often than anybody else. A track that ends without
ever being confirmed leaves its best unmatched face behind (`take_unknowns`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from facebank.index.people import PersonHit
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage, Detection, Face
from facebank.sessions.frames import Frame
from facebank.sessions.policy import RecognitionPolicy, UnknownPolicy
from facebank.sessions.tracker import Track, Tracker, TrackerPolicy
from facebank.sessions.unknown_tracks import UnknownCandidate, UnknownTracks


class FaceSearcher(Protocol):
    """The gallery index as the services layer exposes it (IndexManager)."""

    def search(
        self, queries: NDArray[np.float32], top_k: int, allowed_people: set[int] | None = None
    ) -> list[list[PersonHit]]: ...


@dataclass(frozen=True)
class Seen:
    """A confirmed person visible in this frame."""

    track_id: int
    person_id: int
    score: float
    detection: Detection
    newly_confirmed: bool


class FrameRecognizer:
    def __init__(
        self,
        pipeline: FacePipeline,
        searcher: FaceSearcher,
        policy: RecognitionPolicy,
        tracker_policy: TrackerPolicy,
        threshold: float,
        roster: Collection[int] | None,
        unknowns: UnknownPolicy | None = None,
    ) -> None:
        """`unknowns`: remember unknown tracks' faces (None, or `keep` off: do not)."""
        self._pipeline = pipeline
        self._searcher = searcher
        self._policy = policy
        self._threshold = threshold
        self._roster = None if roster is None else set(roster)
        self._tracker = Tracker(tracker_policy)
        keep = unknowns is not None and unknowns.keep
        self._unknowns = UnknownTracks(unknowns, threshold) if unknowns and keep else None
        self._last_frame_at = 0.0  # monotonic time of the last frame processed
        self._ended_unknown: list[UnknownCandidate] = []
        self.embedded = 0  # faces embedded so far, to show the tracker's saving

    def process(self, frame: Frame) -> list[Seen]:
        image = DecodedImage(frame.pixels, "raw")
        detections = self._pipeline.detect(
            image, self._policy.max_faces, extra_passes=self._policy.extra_detect_passes
        )
        tracks = self._tracker.update([d.box for d in detections])
        self._last_frame_at = frame.monotonic
        self._tracks_ended(self._tracker.take_ended())
        pending = [
            (track, det)
            for track, det in zip(tracks, detections, strict=True)
            if self._wants_embedding(track, det, frame.monotonic)
        ]
        confirmed_now = self._embed_and_vote(image, pending, frame)
        seen = []
        for track, det in zip(tracks, detections, strict=True):
            if track.person_id is not None:
                new = track.id in confirmed_now
                seen.append(Seen(track.id, track.person_id, track.score, det, new))
        return seen

    def take_unknowns(self) -> list[UnknownCandidate]:
        """Best faces of the tracks that ended unknown since the last call."""
        taken, self._ended_unknown = self._ended_unknown, []
        return taken

    def end_tracks(self) -> list[UnknownCandidate]:
        """The camera stops: every track ends; returns what `take_unknowns` would, then."""
        self._tracks_ended(self._tracker.end_all())
        return self.take_unknowns()

    def _tracks_ended(self, tracks: list[Track]) -> None:
        if self._unknowns is not None and tracks:
            ids = [t.id for t in tracks]
            self._ended_unknown += self._unknowns.ended(ids, self._last_frame_at)

    def _wants_embedding(self, track: Track, det: Detection, now: float) -> bool:
        x1, y1, x2, y2 = det.box
        if min(x2 - x1, y2 - y1) < self._policy.min_face_px:
            return False
        since = now - track.last_embed_at
        if track.person_id is not None:
            return since >= self._policy.recheck_s
        return track.embeds < self._policy.max_quick_embeds or since >= self._policy.retry_embed_s

    def _embed_and_vote(
        self, image: DecodedImage, pending: list[tuple[Track, Detection]], frame: Frame
    ) -> set[int]:
        if not pending:
            return set()
        faces = self._pipeline.embed(image, [det for _, det in pending])
        self.embedded += len(faces)
        queries = np.stack([f.embedding for f in faces]).astype(np.float32)
        rows = self._searcher.search(queries, 1, self._roster)
        bests = [row[0] if row and row[0].score >= self._threshold else None for row in rows]
        if self._unknowns is not None:
            self._note_unknowns(image, pending, faces, queries, bests, frame)
        confirmed = set()
        for (track, _), best in zip(pending, bests, strict=True):
            if self._vote(track, best, frame.monotonic):
                confirmed.add(track.id)
                if self._unknowns is not None:
                    self._unknowns.confirmed(track.id)
        return confirmed

    def _note_unknowns(
        self,
        image: DecodedImage,
        pending: list[tuple[Track, Detection]],
        faces: list[Face],
        queries: NDArray[np.float32],
        bests: list[PersonHit | None],
        frame: Frame,
    ) -> None:
        """Tell the unknown tracks which faces matched nobody. With a roster, a face that
        matched nobody on it is searched in the whole gallery too: an enrolled person who
        is not on the roster is not an unknown face."""
        assert self._unknowns is not None
        matched = [best is not None for best in bests]
        missed = [i for i, hit in enumerate(matched) if not hit]
        if self._roster is not None and missed:
            rows = self._searcher.search(queries[missed], 1, None)
            for i, row in zip(missed, rows, strict=True):
                matched[i] = bool(row) and row[0].score >= self._threshold
        for (track, _), face, hit in zip(pending, faces, matched, strict=True):
            self._unknowns.embedded(track.id, image, face, hit, frame.captured_at, frame.monotonic)

    def _vote(self, track: Track, best: PersonHit | None, now: float) -> bool:
        """Count one embedded frame; True when it confirms the track's person."""
        if track.person_id is not None:
            if best is None or best.person_id == track.person_id:
                # A miss (turned head, blur) is no evidence against the confirmed person.
                track.embeds += 1
                track.last_embed_at = now
                return False
            # Someone else now holds this box (people crossed paths): start over.
            track.reset_identity()
        track.embeds += 1
        track.last_embed_at = now
        if best is None:
            return False
        track.votes[best.person_id] += 1
        track.best_scores[best.person_id] = max(
            track.best_scores.get(best.person_id, -1.0), best.score
        )
        (leader, count), *rest = track.votes.most_common(2)
        runner_up = rest[0][1] if rest else 0
        if count >= self._policy.confirm_frames and count > runner_up:
            track.person_id = leader
            track.score = track.best_scores[leader]
            return True
        return False

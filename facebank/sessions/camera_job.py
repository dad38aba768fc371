"""One camera of a running session: its reader, its recognizer and its counters. It is the
scheduler's unit of work and the reader's listener."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from facebank.sessions.camera import CameraReader, CameraState
from facebank.sessions.frames import Frame, FrameSlot
from facebank.sessions.rate import RateMeter
from facebank.sessions.recognizer import FrameRecognizer, Seen
from facebank.sessions.sources import redact
from facebank.sessions.unknown_tracks import UnknownCandidate
from facebank.store.sessions import CameraRecord


@dataclass(frozen=True)
class CameraStats:
    id: int
    name: str
    url: str  # password removed
    status: str
    target_fps: float
    fps: float  # frames through inference per second, measured
    capture_fps: float  # frames read from the source per second
    frames_read: int
    frames_processed: int
    frames_dropped: int  # taken by a newer frame before inference got to them
    faces_embedded: int
    failures: int
    last_error: str | None


class CameraOwner(Protocol):
    """What a camera reports to its session."""

    def frame_done(self, camera: CameraRecord, frame: Frame, seen: list[Seen]) -> None: ...

    def unknowns_ended(self, camera: CameraRecord, unknowns: list[UnknownCandidate]) -> None: ...

    def camera_changed(self, camera: CameraRecord, old: CameraState, new: CameraState) -> None: ...

    def frame_ready(self, job: CameraJob) -> None: ...


class CameraJob:
    def __init__(
        self, camera: CameraRecord, recognizer: FrameRecognizer, owner: CameraOwner
    ) -> None:
        self.camera = camera
        self.recognizer = recognizer
        self.processed = RateMeter()
        self._owner = owner
        self.reader: CameraReader | None = None  # attached right after construction

    @property
    def slot(self) -> FrameSlot:
        assert self.reader is not None
        return self.reader.slot

    # ---- FrameJob (scheduler threads) ---------------------------------------------------

    def process(self, frame: Frame) -> None:
        seen = self.recognizer.process(frame)
        self.processed.tick()
        self._owner.frame_done(self.camera, frame, seen)
        unknowns = self.recognizer.take_unknowns()
        if unknowns:
            self._owner.unknowns_ended(self.camera, unknowns)

    def end_tracks(self) -> None:
        """The camera stopped (no frame in flight any more): its tracks end here, so the
        unknown faces still in view are kept too."""
        unknowns = self.recognizer.end_tracks()
        if unknowns:
            self._owner.unknowns_ended(self.camera, unknowns)

    # ---- CameraListener (reader thread) -------------------------------------------------

    def frame_ready(self) -> None:
        self._owner.frame_ready(self)

    def state_changed(self, old: CameraState, new: CameraState) -> None:
        self._owner.camera_changed(self.camera, old, new)

    def stats(self) -> CameraStats:
        assert self.reader is not None
        reader, state = self.reader, self.reader.state
        return CameraStats(
            id=self.camera.id,
            name=self.camera.name,
            url=redact(self.camera.url),
            status=state.status,
            target_fps=self.camera.target_fps,
            fps=round(self.processed.rate(), 2),
            capture_fps=round(reader.read_rate.rate(), 2),
            frames_read=reader.read_rate.total,
            frames_processed=self.processed.total,
            frames_dropped=reader.slot.dropped,
            faces_embedded=self.recognizer.embedded,
            failures=state.failures,
            last_error=state.error,
        )

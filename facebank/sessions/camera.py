"""One thread per camera: read frames, keep the newest at the target fps, reopen on failure.

States: starting -> running; on a failed open or a stalled/ended stream -> reconnecting
(reopened with exponential backoff); after `max_failures` failures in a row -> failed
(still retried, at the backoff ceiling, and "recovered" when frames come back); a video file
that ends -> finished (or starts over when looping); stop() -> stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import cv2
import numpy as np

from facebank.sessions.frames import Frame, FrameSlot
from facebank.sessions.policy import CameraPolicy
from facebank.sessions.rate import RateMeter
from facebank.sessions.sources import Source, open_capture

log = logging.getLogger(__name__)

# A file that reports no usable frame rate is paced as if it were a 25 fps camera.
DEFAULT_FILE_FPS = 25.0


@dataclass(frozen=True)
class CameraState:
    status: str  # starting, running, reconnecting, failed, finished, stopped
    failures: int  # in a row
    error: str | None


class CameraListener(Protocol):
    def frame_ready(self) -> None:
        """A new frame is in the slot."""

    def state_changed(self, old: CameraState, new: CameraState) -> None:
        """Called on the reader thread on every status change."""


class CameraReader:
    def __init__(
        self,
        name: str,
        source: Source,
        target_fps: float,
        loop: bool,
        policy: CameraPolicy,
        listener: CameraListener,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.slot = FrameSlot()
        self.read_rate = RateMeter()
        self._source = source
        self._interval = 1.0 / target_fps
        self._loop = loop
        self._policy = policy
        self._listener = listener
        self._clock = clock
        self._stop = threading.Event()
        self._state = CameraState("starting", 0, None)
        self._thread = threading.Thread(target=self._run, name=f"camera-{name}", daemon=True)
        self._next_publish = 0.0
        self._index = 0

    @property
    def state(self) -> CameraState:
        return self._state

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    # ---- the reader thread -------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            outcome, error = self._session()
            if self._stop.is_set():
                break
            if outcome == "ended" and self._source.is_file and not self._loop:
                self._set("finished", 0, None)
                return
            if outcome == "ended" and self._source.is_file:
                continue  # looping file: start over at once
            failures = 1 if outcome == "delivered" else failures + 1
            status = "failed" if failures >= self._policy.max_failures else "reconnecting"
            if self._state.status == "failed":
                status = "failed"  # stays failed until frames come back
            self._set(status, failures, error)
            self._stop.wait(self._policy.backoff.delay(failures))
        self._set("stopped", self._state.failures, self._state.error)

    def _session(self) -> tuple[str, str | None]:
        """Open, read until the source fails or ends. Returns (outcome, error) with outcome
        "failed" (nothing read), "delivered" (frames read, then stopped) or "ended"."""
        try:
            capture = open_capture(
                self._source, self._policy.open_timeout_s, self._policy.read_timeout_s
            )
        except cv2.error as exc:
            return "failed", f"cannot open: {exc}"
        try:
            if not capture.isOpened():
                return "failed", "cannot open the camera (unreachable, refused or not a video)"
            return self._read_frames(capture)
        finally:
            capture.release()

    def _read_frames(self, capture: cv2.VideoCapture) -> tuple[str, str | None]:
        pace = self._file_pace(capture)
        started, delivered, frames = self._clock(), False, 0
        while not self._stop.is_set():
            if not capture.grab():
                if self._source.is_file and delivered:
                    return "ended", None
                return ("delivered" if delivered else "failed"), "no frame within the read timeout"
            self.read_rate.tick()
            frames += 1
            if not delivered:
                delivered = True
                self._set("running", 0, None)
            self._publish(capture)
            if pace:
                # A file plays at its own frame rate, like the camera that recorded it.
                self._stop.wait(max(0.0, started + frames * pace - self._clock()))
        return "delivered", None

    def _file_pace(self, capture: cv2.VideoCapture) -> float:
        if not self._source.is_file:
            return 0.0
        fps = capture.get(cv2.CAP_PROP_FPS)
        return 1.0 / (fps if 1.0 <= fps <= 240.0 else DEFAULT_FILE_FPS)

    def _publish(self, capture: cv2.VideoCapture) -> None:
        """Decode (retrieve) only the frames kept for the target fps."""
        now = self._clock()
        if now < self._next_publish:
            return
        # Keep the cadence, but never try to catch up on a backlog after a stall.
        self._next_publish = max(self._next_publish + self._interval, now + self._interval / 2)
        ok, pixels = capture.retrieve()
        if not ok or pixels is None:
            return
        self._index += 1
        frame = Frame(np.asarray(pixels, np.uint8), self._index, datetime.now(UTC), now)
        self.slot.put(frame)
        self._listener.frame_ready()

    def _set(self, status: str, failures: int, error: str | None) -> None:
        old, new = self._state, CameraState(status, failures, error)
        if old == new:
            return
        self._state = new
        if old.status != new.status:
            log.info("camera %s: %s -> %s (%s)", self.name, old.status, new.status, error or "ok")
        try:
            self._listener.state_changed(old, new)
        except Exception:  # a listener failure must not kill the reader
            log.exception("camera %s: state listener failed", self.name)

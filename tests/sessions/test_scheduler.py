"""Frames of many cameras share the inference threads fairly, and a slow consumer makes
cameras drop old frames (counted) instead of queueing them."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import numpy as np

from facebank.sessions.frames import Frame, FrameSlot
from facebank.sessions.scheduler import FrameScheduler

CAMERAS = 4
FRAMES = 200  # processed in all before the test stops feeding
DEADLINE_S = 30.0  # only a hang takes this long; the frames themselves take milliseconds


class Cameras:
    """Cameras that always outpace inference: while one frame is processed, every camera
    publishes a newer frame. So every camera always has a frame waiting, whatever the
    machine's speed, and the scheduler alone decides who is served (no clock involved)."""

    def __init__(self, scheduler: FrameScheduler, count: int, frames: int) -> None:
        self.cameras = [Camera(self) for _ in range(count)]
        self.enough = threading.Event()
        self._scheduler = scheduler
        self._frames = frames
        self._processed = 0

    def processed(self) -> None:  # called on the scheduler's one thread
        self._processed += 1
        if self._processed >= self._frames:
            self.enough.set()
        if not self.enough.is_set():
            self.publish_all()

    def publish_all(self) -> None:
        for camera in self.cameras:
            camera.publish()
            self._scheduler.notify(camera)


class Camera:
    def __init__(self, cameras: Cameras) -> None:
        self.slot = FrameSlot()
        self.done = 0
        self._cameras = cameras

    def process(self, frame: Frame) -> None:
        self.done += 1
        self._cameras.processed()

    def publish(self) -> None:
        pixels = np.zeros((2, 2, 3), np.uint8)
        index = self.slot.published + 1
        self.slot.put(Frame(pixels, index, datetime.now(UTC), time.monotonic()))


def test_overloaded_cameras_slow_down_evenly_and_drop_old_frames() -> None:
    scheduler = FrameScheduler(threads=1)
    scheduler.start()
    feed = Cameras(scheduler, CAMERAS, FRAMES)
    for camera in feed.cameras:
        scheduler.add(camera)
    feed.publish_all()
    finished = feed.enough.wait(DEADLINE_S)
    for camera in feed.cameras:
        scheduler.remove(camera)
    scheduler.close()
    assert finished, "the scheduler stopped serving the cameras"
    done = [c.done for c in feed.cameras]
    assert sum(done) >= FRAMES
    assert max(done) - min(done) <= 1, done  # round-robin: nobody starved, nobody preferred
    assert all(c.slot.dropped > 0 for c in feed.cameras)
    assert all(
        c.slot.published == c.done + c.slot.dropped + int(c.slot.has_frame()) for c in feed.cameras
    )


def test_slot_keeps_only_the_newest_frame() -> None:
    slot = FrameSlot()
    pixels = np.zeros((1, 1, 3), np.uint8)
    for n in range(5):
        slot.put(Frame(pixels, n, datetime.now(UTC), 0.0))
    frame = slot.take()
    assert frame is not None and frame.index == 4
    assert (slot.published, slot.dropped, slot.take()) == (5, 4, None)

"""Frames of many cameras share the inference threads fairly, and a slow consumer makes
cameras drop old frames (counted) instead of queueing them."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import numpy as np

from facebank.sessions.frames import Frame, FrameSlot
from facebank.sessions.scheduler import FrameScheduler


class Camera:
    def __init__(self, scheduler: FrameScheduler, work_s: float) -> None:
        self.slot = FrameSlot()
        self.done = 0
        self._scheduler = scheduler
        self._work_s = work_s

    def process(self, frame: Frame) -> None:
        time.sleep(self._work_s)  # stands in for detection + embedding
        self.done += 1

    def publish(self, index: int) -> None:
        pixels = np.zeros((2, 2, 3), np.uint8)
        self.slot.put(Frame(pixels, index, datetime.now(UTC), time.monotonic()))
        self._scheduler.notify(self)


def test_overloaded_cameras_slow_down_evenly_and_drop_old_frames() -> None:
    scheduler = FrameScheduler(threads=1)
    scheduler.start()
    cameras = [Camera(scheduler, work_s=0.01) for _ in range(4)]
    for camera in cameras:
        scheduler.add(camera)
    stop = threading.Event()

    def feed(camera: Camera) -> None:  # 50 fps each: 4x more than one thread can take
        n = 0
        while not stop.is_set():
            n += 1
            camera.publish(n)
            time.sleep(0.02)

    feeders = [threading.Thread(target=feed, args=(c,)) for c in cameras]
    for feeder in feeders:
        feeder.start()
    time.sleep(2.0)
    stop.set()
    for feeder in feeders:
        feeder.join()
    for camera in cameras:
        scheduler.remove(camera)
    scheduler.close()
    done = [c.done for c in cameras]
    assert min(done) >= 0.8 * max(done), done  # nobody starved
    assert sum(done) >= 100  # the thread was kept busy (about 200 possible)
    assert all(c.slot.dropped > 0 for c in cameras)
    assert all(c.slot.published == c.done + c.slot.dropped + int(c.slot.has_frame())
               for c in cameras)


def test_slot_keeps_only_the_newest_frame() -> None:
    slot = FrameSlot()
    pixels = np.zeros((1, 1, 3), np.uint8)
    for n in range(5):
        slot.put(Frame(pixels, n, datetime.now(UTC), 0.0))
    frame = slot.take()
    assert frame is not None and frame.index == 4
    assert (slot.published, slot.dropped, slot.take()) == (5, 4, None)

"""Footage for the unknown-face tests: people from the real photos walking through a room
one after another, each from a chosen photo, written as a video file. The walks are slow
and the faces large, so a loaded machine that skips a second of frames still follows each
face (and the faces pass the enrollment gate when a cluster is named)."""

from __future__ import annotations

from pathlib import Path

from facebank.bench.simulate import video
from facebank.pipeline.pipeline import FacePipeline
from tests.conftest import identity_photos
from tests.sessions.scene import sprite_for

WIDTH, HEIGHT, FPS = 640, 360, 10.0
FACE_PX = 100  # above the enrollment gate's 64 px minimum
WALK_FRAMES, GAP_FRAMES, TAIL_FRAMES = 60, 10, 10
PAUSE = 0.5  # half of each walk standing in the middle


def walkers_video(pipeline: FacePipeline, path: Path, shown: list[tuple[str, int]]) -> Path:
    """One walker after another (identity, index of the photo shown), then an empty room."""
    photos = identity_photos()
    walks = []
    for n, (label, photo) in enumerate(shown):
        sprite = sprite_for(pipeline, label, photos[label][photo], FACE_PX)
        start = n * (WALK_FRAMES + GAP_FRAMES)
        walks.append(
            video.Walk(sprite, start, WALK_FRAMES, 40, left_to_right=n % 2 == 0, pause=PAUSE)
        )
    count = len(shown) * (WALK_FRAMES + GAP_FRAMES) + TAIL_FRAMES
    images = video.frames(video.background(WIDTH, HEIGHT), walks, count)
    return video.write_video(path, images, FPS, (WIDTH, HEIGHT))

"""Test footage from the real photos: three enrolled people and one stranger walking through
a room, one after another with some overlap, written as a video file and as MJPEG frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from facebank.bench.simulate import video
from facebank.pipeline.pipeline import FacePipeline
from tests.conftest import identity_photos

# Enrolled from their first photo, shown in the video from another photo of theirs: the
# session has to recognise a picture it was not enrolled with.
ENROLLED = ("deepface_id01", "deepface_id03", "fr_obama")
STRANGER = "deepface_id05"  # in the video, never enrolled: must never be reported
ABSENT = ("deepface_id02", "fr_kit_harington")  # enrolled, not in the video: never reported
VIDEO_PHOTO = 1  # index of the photo shown in the video

WIDTH, HEIGHT, FPS = 480, 270, 10.0
FACE_PX = 72
WALK_FRAMES = 40  # 4 s from one edge to the other, 40% of it standing in the middle
GAP_FRAMES = 25  # a new walker every 2.5 s: consecutive walks overlap on different lanes
TAIL_FRAMES = 15  # an empty room at the end


@dataclass(frozen=True)
class Scene:
    walks: tuple[video.Walk, ...]
    frame_count: int
    fps: float
    size: tuple[int, int]
    enrol_photos: dict[str, Path]  # identity -> photo to enroll

    def images(self) -> list[NDArray[np.uint8]]:
        base = video.background(*self.size)
        return list(video.frames(base, self.walks, self.frame_count))

    def write(self, path: Path) -> Path:
        return video.write_video(path, iter(self.images()), self.fps, self.size)

    def jpegs(self) -> list[bytes]:
        return video.encode_jpegs(iter(self.images()))

    @property
    def duration_s(self) -> float:
        return self.frame_count / self.fps


def sprite_for(pipeline: FacePipeline, label: str, photo: Path, face_px: int) -> video.Sprite:
    image = pipeline.decode(photo.read_bytes())
    faces = pipeline.detect(image)
    largest = max(faces, key=lambda d: d.area)
    return video.cut_sprite(label, image.pixels, image.in_pixels(largest).box, face_px)


def build_scene(pipeline: FacePipeline) -> Scene:
    photos = identity_photos()
    walkers = [*ENROLLED[:2], STRANGER, ENROLLED[2]]  # the stranger walks in mid-video
    walks = []
    for n, label in enumerate(walkers):
        sprite = sprite_for(pipeline, label, photos[label][VIDEO_PHOTO], FACE_PX)
        top = 20 + (n % 2) * 60  # two lanes, so overlapping walkers do not cover each other
        walks.append(
            video.Walk(sprite, n * GAP_FRAMES, WALK_FRAMES, top, left_to_right=n % 2 == 0,
                       pause=0.4)
        )
    count = (len(walkers) - 1) * GAP_FRAMES + WALK_FRAMES + TAIL_FRAMES
    enrol = {label: photos[label][0] for label in (*ENROLLED, *ABSENT)}
    return Scene(tuple(walks), count, FPS, (WIDTH, HEIGHT), enrol)

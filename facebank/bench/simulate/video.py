"""Synthetic camera footage: face photos walking in and out of a classroom-like background.

Each walk moves one person's head-and-shoulders cut-out across the frame (optionally
standing still in the middle); walks may overlap in time on different lanes. The timeline
says exactly when each face is fully in view, which tests and the benchmark measure from.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.pipeline.types import Box

Image = NDArray[np.uint8]


@dataclass(frozen=True)
class Sprite:
    label: str  # who it is (identity folder name)
    pixels: Image
    face: Box  # the face box inside `pixels`


@dataclass(frozen=True)
class Walk:
    sprite: Sprite
    start: int  # first frame
    frames: int  # frames from entering at one edge to leaving at the other
    top: int  # y of the sprite's top edge
    left_to_right: bool = True
    pause: float = 0.3  # fraction of the walk spent standing in the middle

    def x_at(self, frame: int, width: int) -> int | None:
        """The sprite's left edge at `frame`, None outside the walk."""
        t = frame - self.start
        if not 0 <= t < self.frames:
            return None
        u = t / max(1, self.frames - 1)
        move = (1 - self.pause) / 2
        # position along the path in [0, 1]: walk in, stand at 0.5, walk out
        if u < move:
            p = 0.5 * u / move
        elif u < move + self.pause:
            p = 0.5
        else:
            p = 0.5 + 0.5 * (u - move - self.pause) / move
        w = int(self.sprite.pixels.shape[1])
        p = p if self.left_to_right else 1 - p
        return round(-w + p * (width + w))

    def face_in_view(self, frame: int, width: int) -> bool:
        x = self.x_at(frame, width)
        if x is None:
            return False
        x1, _, x2, _ = self.sprite.face
        return x + x1 >= 0 and x + x2 <= width

    def first_full_view(self, width: int) -> int | None:
        """The first frame with the whole face inside the picture."""
        return next(
            (f for f in range(self.start, self.start + self.frames) if self.face_in_view(f, width)),
            None,
        )


def cut_sprite(label: str, photo: Image, face: Box, face_width: int) -> Sprite:
    """Head and shoulders around `face`, scaled so the face is `face_width` pixels wide."""
    h, w = photo.shape[:2]
    x1, y1, x2, y2 = face
    fw, fh = x2 - x1, y2 - y1
    left, right = max(0, int(x1 - 0.5 * fw)), min(w, int(x2 + 0.5 * fw))
    top, bottom = max(0, int(y1 - 0.6 * fh)), min(h, int(y2 + 0.6 * fh))
    crop = photo[top:bottom, left:right]
    scale = face_width / max(fw, 1.0)
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    pixels = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), np.uint8)
    box = ((x1 - left) * scale, (y1 - top) * scale, (x2 - left) * scale, (y2 - top) * scale)
    return Sprite(label, pixels, box)


def background(width: int, height: int, seed: int = 0) -> Image:
    """A plain room: graded wall, a board, a few desks. Deterministic per seed."""
    rng = np.random.default_rng(seed)
    wall = np.linspace(190, 140, height, dtype=np.float32)[:, None, None]
    tint = np.array([1.0, 0.97, 0.9], dtype=np.float32)
    image = np.ascontiguousarray(np.broadcast_to(wall * tint, (height, width, 3)), np.uint8)
    board = ((width // 4, height // 10), (3 * width // 4, height // 3))
    cv2.rectangle(image, *board, (60, 80, 50), -1)
    for _ in range(6):
        x, y = int(rng.integers(0, width - 200)), int(rng.integers(2 * height // 3, height - 60))
        color = tuple(int(c) for c in rng.integers(60, 140, 3))
        cv2.rectangle(image, (x, y), (x + 200, y + 50), color, -1)
    return image


def render(base: Image, walks: Sequence[Walk], frame: int) -> Image:
    image = base.copy()
    width = image.shape[1]
    for walk in walks:
        x = walk.x_at(frame, width)
        if x is not None:
            _paste(image, walk.sprite.pixels, x, walk.top)
    return image


def _paste(image: Image, sprite: Image, x: int, y: int) -> None:
    h, w = image.shape[:2]
    sh, sw = sprite.shape[:2]
    left, top = max(0, x), max(0, y)
    right, bottom = min(w, x + sw), min(h, y + sh)
    if right > left and bottom > top:
        image[top:bottom, left:right] = sprite[top - y : bottom - y, left - x : right - x]


def frames(base: Image, walks: Sequence[Walk], count: int) -> Iterator[Image]:
    for i in range(count):
        yield render(base, walks, i)


def write_video(path: Path, images: Iterator[Image], fps: float, size: tuple[int, int]) -> Path:
    """Motion-JPEG in AVI: written and read by OpenCV's bundled FFmpeg everywhere."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {path}")
    try:
        for image in images:
            writer.write(image)
    finally:
        writer.release()
    return path


def encode_jpegs(images: Iterator[Image], quality: int = 85) -> list[bytes]:
    encoded = []
    for image in images:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        encoded.append(data.tobytes())
    return encoded

"""Looping camera footage for the benchmark: people walk through one at a time, and the
timeline says when each face is fully in view, to time "face appears -> webhook"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facebank.bench.simulate import video
from facebank.pipeline.pipeline import FacePipeline

WALK_S = 4.0  # from one edge to the other, 40% of it standing in the middle
GAP_S = 1.0  # empty room between two walkers


@dataclass(frozen=True)
class Appearance:
    label: str
    frame: int  # first frame (within one loop) with the whole face in view


@dataclass(frozen=True)
class Footage:
    jpegs: list[bytes]  # one loop
    fps: float
    appearances: tuple[Appearance, ...]

    def last_appearance(self, label: str, live_frame: int) -> int | None:
        """The absolute frame at which `label` last came into full view, up to `live_frame`."""
        loop = len(self.jpegs)
        best = None
        for a in self.appearances:
            if a.label != label:
                continue
            k = (live_frame - a.frame) // loop
            if k >= 0:
                best = max(best or 0, k * loop + a.frame)
        return best


def walkers_footage(
    pipeline: FacePipeline,
    photos: dict[str, Path],
    size: tuple[int, int],
    fps: float,
    face_px: int,
) -> Footage:
    """`photos`: label -> the photo to show (largest face). One walk per label, in order."""
    walk_frames, gap_frames = round(WALK_S * fps), round(GAP_S * fps)
    width, height = size
    walks = []
    for n, (label, path) in enumerate(photos.items()):
        image = pipeline.decode(path.read_bytes())
        face = max(pipeline.detect(image), key=lambda d: d.area)
        sprite = video.cut_sprite(label, image.pixels, image.in_pixels(face).box, face_px)
        top = height // 6 + (n % 3) * height // 10
        walks.append(video.Walk(sprite, n * (walk_frames + gap_frames), walk_frames, top,
                                left_to_right=n % 2 == 0, pause=0.4))
    count = len(walks) * (walk_frames + gap_frames)
    base = video.background(width, height)
    jpegs = video.encode_jpegs(video.frames(base, walks, count))
    appearances = tuple(
        Appearance(w.sprite.label, w.first_full_view(width) or w.start) for w in walks
    )
    return Footage(jpegs, fps, appearances)

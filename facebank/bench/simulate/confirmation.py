"""The measurement behind `session_confirm_frames`: how many embedded frames of one track
must agree before a person is reported.

Footage: every identity of a photo folder walks through the room (enrolled people shown from
a photo they were not enrolled with; the others are strangers), rendered at several face
sizes and JPEG qualities. Each track's identity votes are recorded with confirmation off;
the rule "N votes, more than any other person" is then replayed for N = 1..4, counting false
reports (a stranger or the wrong person confirmed), misses and the delay after the face came
fully into view.

    python -m facebank.bench.simulate.confirmation ../shared/faces/people
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.bench.simulate import video
from facebank.config import Settings
from facebank.evaluation.dataset import identity_folders
from facebank.index.people import PersonHit
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage, Detection
from facebank.sessions.frames import Frame
from facebank.sessions.policy import SessionPolicies
from facebank.sessions.recognizer import FrameRecognizer
from facebank.sessions.tracker import Track

SUFFIXES = {".jpg", ".jpeg", ".png"}
WIDTH, HEIGHT, FPS = 640, 360, 5.0
WALK_FRAMES = 20  # 4 s at 5 fps


class MatrixSearcher:
    """Exact cosine search over a few enrolled embeddings (one face per person)."""

    def __init__(self, people: dict[int, NDArray[np.float32]]) -> None:
        self._ids = list(people)
        self._matrix = np.stack([people[i] for i in self._ids])

    def search(
        self, queries: NDArray[np.float32], top_k: int, allowed_people: set[int] | None = None
    ) -> list[list[PersonHit]]:
        scores = queries @ self._matrix.T
        allowed = [
            i for i, pid in enumerate(self._ids) if allowed_people is None or pid in allowed_people
        ]
        rows = []
        for row in scores:
            order = sorted(allowed, key=lambda i: -row[i])[:top_k]
            rows.append([PersonHit(self._ids[i], self._ids[i], float(row[i])) for i in order])
        return rows


@dataclass
class TrackLog:
    votes: list[tuple[int, int | None]] = field(default_factory=list)  # (frame, person)


class RecordingRecognizer(FrameRecognizer):
    """Never confirms; remembers every vote of every track."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.logs: dict[int, TrackLog] = {}
        self.frame = 0

    def _vote(self, track: Track, best: PersonHit | None, now: float) -> bool:
        log = self.logs.setdefault(track.id, TrackLog())
        log.votes.append((self.frame, None if best is None else best.person_id))
        super()._vote(track, best, now)
        return False


def confirmed_at(votes: list[tuple[int, int | None]], n: int) -> tuple[int, int] | None:
    """(frame, person) at which the rule "n votes and more than anybody else" fires."""
    counts: Counter[int] = Counter()
    for frame, person in votes:
        if person is None:
            continue
        counts[person] += 1
        (leader, count), *rest = counts.most_common(2)
        if count >= n and count > (rest[0][1] if rest else 0):
            return frame, leader
    return None


def _largest(pipeline: FacePipeline, path: Path) -> tuple[DecodedImage, Detection]:
    image = pipeline.decode(path.read_bytes())
    return image, max(pipeline.detect(image), key=lambda d: d.area)


def measure(people_dir: Path, face_px: int, jpeg_quality: int, threshold: float,
            pipeline: FacePipeline) -> tuple[dict[int, tuple[int, int, float]], int, int]:
    """(N -> (false reports, missed enrolled walkers, mean delay in frames), wrong votes,
    votes): a wrong vote names a person other than the walker (strangers: anybody)."""
    photos = {k: v for k, v in identity_folders(people_dir, SUFFIXES).items() if v}
    labels = sorted(photos)
    enrolled = {
        label: n for n, label in enumerate(labels) if n % 2 == 0 and len(photos[label]) > 1
    }
    gallery = {}
    for label, pid in enrolled.items():
        image, detection = _largest(pipeline, photos[label][0])
        gallery[pid] = pipeline.embed(image, [detection])[0].embedding.astype(np.float32)
    walks = []
    truth: dict[int, int | None] = {}  # walk index -> enrolled person id or None
    for n, label in enumerate(labels):
        shown = photos[label][1] if label in enrolled else photos[label][-1]
        image, detection = _largest(pipeline, shown)
        box = image.in_pixels(detection).box
        sprite = video.cut_sprite(label, image.pixels, box, face_px)
        walks.append(video.Walk(sprite, n * WALK_FRAMES, WALK_FRAMES, 40, pause=0.4))
        truth[n] = enrolled.get(label)
    base = video.background(WIDTH, HEIGHT)
    settings = Settings(_env_file=None)
    policies = SessionPolicies.from_settings(settings)
    recognizer = RecordingRecognizer(
        pipeline, MatrixSearcher(gallery), replace(policies.recognition, confirm_frames=1000),
        policies.tracker, threshold, None,
    )
    walker_of_track: dict[int, int] = {}
    total = len(walks) * WALK_FRAMES
    for i in range(total):
        rendered = video.render(base, walks, i)
        _, data = cv2.imencode(".jpg", rendered, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
        pixels = np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), np.uint8)
        recognizer.frame = i
        before = set(recognizer.logs)
        recognizer.process(Frame(pixels, i, datetime.now(UTC), i / FPS))
        for track_id in set(recognizer.logs) - before:
            walker_of_track[track_id] = i // WALK_FRAMES
    votes = [(walker_of_track[t], p) for t, log in recognizer.logs.items() for _, p in log.votes]
    wrong = sum(1 for w, p in votes if p is not None and p != truth[w])
    results = {}
    for n in (1, 2, 3, 4):
        false, found, delays = 0, set(), []
        for track_id, log in recognizer.logs.items():
            walker = walker_of_track[track_id]
            hit = confirmed_at(log.votes, n)
            if hit is None:
                continue
            if hit[1] != truth[walker]:
                false += 1
            elif walker not in found:
                found.add(walker)
                first = walks[walker].first_full_view(WIDTH) or walks[walker].start
                delays.append(hit[0] - first)
        missed = sum(1 for w, pid in truth.items() if pid is not None and w not in found)
        results[n] = (false, missed, float(np.mean(delays)) if delays else float("nan"))
    return results, wrong, len(votes)


def main(argv: Collection[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("people", type=Path)
    args = parser.parse_args(list(argv) if argv is not None else None)
    pipeline = build_pipeline(Settings(_env_file=None))
    print("face_px jpeg threshold wrong/votes | N: false reports / missed / mean delay "
          "(frames at 5 fps)")
    for face_px, quality, threshold in ((72, 85, 0.33), (40, 40, 0.33), (34, 20, 0.33),
                                        (40, 40, 0.2), (34, 20, 0.15)):
        result, wrong, votes = measure(args.people, face_px, quality, threshold, pipeline)
        cells = "  ".join(f"N={n}: {f}/{m}/{d:.1f}" for n, (f, m, d) in result.items())
        print(f"{face_px:>7} {quality:>4} {threshold:>9} {wrong:>5}/{votes:<5} | {cells}",
              flush=True)


if __name__ == "__main__":
    main()

"""Unknown faces of live sessions (issue 12): a track that ends without being confirmed as
anybody leaves exactly one face behind, its best one, as a crop around the face; confirmed
tracks, one-frame tracks and recognizers told not to keep unknowns leave nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.bench.simulate.confirmation import MatrixSearcher
from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage, Face
from facebank.sessions.frames import Frame
from facebank.sessions.policy import SessionPolicies, UnknownPolicy
from facebank.sessions.recognizer import FrameRecognizer
from facebank.sessions.unknown_tracks import UnknownCandidate, UnknownTracks, face_quality
from tests.conftest import identity_photos
from tests.sessions.scene import ENROLLED, FACE_PX, STRANGER, Scene

POLICIES = SessionPolicies.from_settings(Settings(_env_file=None))
KEEP = UnknownPolicy(keep=True, min_embeds=2, rejoin_s=5.0)
THRESHOLD = 0.33
T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def _embedding(pipeline: FacePipeline, photo: Path) -> NDArray[np.float32]:
    return _face(pipeline, pipeline.decode(photo.read_bytes()))[1].embedding


def _face(pipeline: FacePipeline, image: DecodedImage) -> tuple[DecodedImage, Face]:
    largest = max(pipeline.detect(image), key=lambda d: d.area)
    return image, pipeline.embed(image, [largest])[0]


def _play(
    pipeline: FacePipeline,
    scene: Scene,
    enrolled: list[str],
    policy: UnknownPolicy | None,
    roster: set[int] | None = None,
) -> list[tuple[int, UnknownCandidate]]:
    """Run the footage through one camera's recognizer, then stop the camera: (frame index
    at which each unknown was handed over, -1 at the stop; the unknown)."""
    photos = identity_photos()
    gallery = {n: _embedding(pipeline, photos[label][0]) for n, label in enumerate(enrolled)}
    recognizer = FrameRecognizer(
        pipeline, MatrixSearcher(gallery), POLICIES.recognition, POLICIES.tracker,
        threshold=THRESHOLD, roster=roster, unknowns=policy,
    )  # fmt: skip
    handed: list[tuple[int, UnknownCandidate]] = []
    for i, pixels in enumerate(scene.images()):
        at = T0 + timedelta(seconds=i / scene.fps)
        recognizer.process(Frame(pixels, i, at, i / scene.fps))
        handed += [(i, u) for u in recognizer.take_unknowns()]
    return handed + [(-1, u) for u in recognizer.end_tracks()]


def test_the_stranger_leaves_one_face_and_the_enrolled_walkers_none(
    face_pipeline: FacePipeline, scene: Scene
) -> None:
    enrolled = list(scene.enrol_photos)  # everybody but the stranger
    handed = _play(face_pipeline, scene, enrolled, POLICIES.unknowns)
    assert len(handed) == 1, [(i, u.seen_at) for i, u in handed]
    index, unknown = handed[0]

    # Handed over when the stranger's track ended (as they left, not at the camera's stop),
    # from a frame of their walk.
    walk = next(w for w in scene.walks if w.sprite.label == STRANGER)
    seen = round((unknown.seen_at - T0).total_seconds() * scene.fps)
    assert walk.start <= seen < index <= walk.start + walk.frames + POLICIES.tracker.max_missed

    # The face is the stranger's: closer to a photo of theirs than to anybody else's.
    photos = identity_photos()
    scores = {
        label: float(unknown.face.embedding @ _embedding(face_pipeline, paths[0]))
        for label, paths in photos.items()
    }
    assert max(scores, key=lambda label: scores[label]) == STRANGER and scores[STRANGER] > 0.5

    # Only a crop is kept, with the face inside it where the detector finds it again.
    height, width = unknown.crop.pixels.shape[:2]
    assert width < scene.size[0] / 2 and height < scene.size[1]
    x1, y1, x2, y2 = unknown.face.detection.box
    assert 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height
    assert min(x2 - x1, y2 - y1) >= FACE_PX * 0.8
    again = max(face_pipeline.detect(unknown.crop), key=lambda d: d.area).box
    assert max(abs(a - b) for a, b in zip(again, unknown.face.detection.box, strict=True)) < 4
    assert unknown.quality == face_quality(unknown.face)


def test_nothing_is_kept_when_everybody_is_known_or_keeping_is_off(
    face_pipeline: FacePipeline, scene: Scene
) -> None:
    everybody = [*scene.enrol_photos, STRANGER]
    assert _play(face_pipeline, scene, everybody, POLICIES.unknowns) == []
    enrolled = list(scene.enrol_photos)
    assert _play(face_pipeline, scene, enrolled, UnknownPolicy(False, 2, 5.0)) == []
    assert _play(face_pipeline, scene, enrolled, None) == []


def test_enrolled_people_off_the_roster_are_not_unknown(
    face_pipeline: FacePipeline, scene: Scene
) -> None:
    enrolled = list(scene.enrol_photos)
    roster = {enrolled.index(ENROLLED[0])}  # the other walkers are enrolled, not looked for
    handed = _play(face_pipeline, scene, enrolled, POLICIES.unknowns, roster)
    assert len(handed) == 1  # the stranger only
    stranger = _embedding(face_pipeline, identity_photos()[STRANGER][0])
    assert float(handed[0][1].face.embedding @ stranger) > 0.5


def _sizes(pipeline: FacePipeline, photo: Path) -> list[tuple[DecodedImage, Face]]:
    """The same real photo at full size and shrunk to a quarter: a large and a small face."""
    image = pipeline.decode(photo.read_bytes())
    height, width = image.pixels.shape[:2]
    small = np.asarray(cv2.resize(image.pixels, (width // 4, height // 4)), np.uint8)
    return [_face(pipeline, image), _face(pipeline, DecodedImage(small, "raw"))]


def test_the_best_face_wins_and_only_unknown_tracks_with_enough_misses_are_kept(
    face_pipeline: FacePipeline,
) -> None:
    photo = identity_photos()[STRANGER][0]
    (big_image, big), (small_image, small) = _sizes(face_pipeline, photo)
    assert face_quality(big) > face_quality(small)
    tracks = UnknownTracks(KEEP, THRESHOLD)

    # Track 1: small, large, small again: the large face is kept, cut out of its image.
    for image, face, n in ((small_image, small, 0), (big_image, big, 1), (small_image, small, 2)):
        tracks.embedded(1, image, face, False, T0 + timedelta(seconds=n), n)
    # Track 2: one miss and two matches: one miss is not enough.
    for matched in (False, True, True):
        tracks.embedded(2, big_image, big, matched, T0, 0.0)
    # Track 3: misses, then confirmed as a person: not unknown, whatever follows.
    for _ in range(3):
        tracks.embedded(3, big_image, big, False, T0, 0.0)
    tracks.confirmed(3)
    tracks.embedded(3, big_image, big, False, T0, 0.0)

    kept = tracks.ended([1, 2, 3, 4], 3.0)
    assert len(kept) == 1
    best = kept[0]
    assert best.seen_at == T0 + timedelta(seconds=1) and best.quality == face_quality(big)
    assert best.crop.width < big_image.width and best.crop.height < big_image.height
    assert np.array_equal(best.face.embedding, big.embedding)
    assert tracks.ended([1, 2, 3], 3.0) == []  # ended tracks are forgotten


def test_a_broken_track_of_the_same_face_is_not_kept_twice(face_pipeline: FacePipeline) -> None:
    photos = identity_photos()
    stranger = [_face(face_pipeline, face_pipeline.decode(p.read_bytes()))
                for p in photos[STRANGER][:2]]  # fmt: skip
    other = _face(face_pipeline, face_pipeline.decode(photos["fr_biden"][0].read_bytes()))
    assert float(stranger[0][1].embedding @ stranger[1][1].embedding) >= THRESHOLD
    tracks = UnknownTracks(KEEP, THRESHOLD)

    def track(track_id: int, sighting: tuple[DecodedImage, Face], begins: float) -> None:
        for step in range(2):
            tracks.embedded(track_id, *sighting, False, T0, begins + step)

    track(1, stranger[0], 0.0)
    assert len(tracks.ended([1], 2.0)) == 1
    # The stranger again, 4 s after their first track ended (within rejoin_s): the same
    # sighting; somebody else at the same time is kept.
    track(2, stranger[1], 6.0)
    track(3, other, 6.0)
    kept = tracks.ended([2, 3], 8.0)
    assert [np.array_equal(k.face.embedding, other[1].embedding) for k in kept] == [True]
    # A chain of broken tracks stays one sighting (track 2 renewed the kept face's end)...
    track(4, stranger[0], 12.0)
    assert tracks.ended([4], 14.0) == []
    # ...but after a longer absence the stranger is a new sighting.
    track(5, stranger[1], 20.0)
    assert len(tracks.ended([5], 22.0)) == 1

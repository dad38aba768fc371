"""The per-camera recognizer over the test footage, frame by frame without real time: the
right people are confirmed, a roster limits who can be, and the tracker keeps embedding to a
few frames per person instead of every frame."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from facebank.bench.simulate.confirmation import MatrixSearcher
from facebank.config import Settings
from facebank.pipeline.pipeline import FacePipeline
from facebank.sessions.frames import Frame
from facebank.sessions.policy import SessionPolicies
from facebank.sessions.recognizer import FrameRecognizer
from tests.sessions.scene import ENROLLED, Scene

POLICIES = SessionPolicies.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]


def _gallery(pipeline: FacePipeline, scene: Scene) -> dict[int, NDArray[np.float32]]:
    vectors = {}
    for pid, photo in enumerate(scene.enrol_photos.values(), start=1):
        image = pipeline.decode(photo.read_bytes())
        face = max(pipeline.detect(image), key=lambda d: d.area)
        vectors[pid] = pipeline.embed(image, [face])[0].embedding.astype(np.float32)
    return vectors


def _run(
    pipeline: FacePipeline, scene: Scene, roster: set[int] | None
) -> tuple[set[int], int, int]:
    recognizer = FrameRecognizer(
        pipeline, MatrixSearcher(_gallery(pipeline, scene)), POLICIES.recognition,
        POLICIES.tracker, threshold=0.33, roster=roster,
    )
    confirmed: set[int] = set()
    detections = 0
    for i, pixels in enumerate(scene.images()):
        frame = Frame(pixels, i, datetime.now(UTC), i / scene.fps)
        seen = recognizer.process(frame)
        confirmed |= {s.person_id for s in seen if s.newly_confirmed}
        # Tracks seen in this frame = faces detected in it.
        detections += sum(t.missed == 0 for t in recognizer._tracker.tracks)
    return confirmed, recognizer.embedded, detections


def test_recognizer_confirms_the_walkers_and_embeds_sparingly(
    face_pipeline: FacePipeline, scene: Scene
) -> None:
    in_video = {n for n, label in enumerate(scene.enrol_photos, start=1) if label in ENROLLED}
    confirmed, embedded, faces = _run(face_pipeline, scene, None)
    assert confirmed == in_video
    print(f"\n{faces} faces detected, {embedded} embedded")
    assert embedded < faces / 2, (embedded, faces)  # tracking saves most embeddings

    only = min(in_video)
    confirmed, _, _ = _run(face_pipeline, scene, {only})
    assert confirmed == {only}

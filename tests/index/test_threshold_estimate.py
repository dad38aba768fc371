"""The calibration estimator on real photos of ../shared/faces: a recommendation inside the
gap between different- and same-person scores, and the duplicate trap of issue 15."""

from __future__ import annotations

import numpy as np
import pytest

from facebank.errors import CalibrationUnavailableError
from facebank.evaluation.calibration_check import check_calibration, split
from facebank.evaluation.metrics import EmbeddedPhoto, all_pairs
from facebank.evaluation.runner import embed_roots
from facebank.index.gallery_scores import gallery_scores
from facebank.index.threshold_estimate import EMPIRICAL, Estimate, estimate, threshold_for
from facebank.pipeline.pipeline import FacePipeline
from tests.conftest import PEOPLE, YALE


@pytest.fixture(scope="module")
def photos(face_pipeline: FacePipeline) -> list[EmbeddedPhoto]:
    embedded = embed_roots(face_pipeline, [PEOPLE, YALE])
    assert len(embedded) == 77 + 164  # a face in every photo
    return embedded


def _estimate(photos: list[EmbeddedPhoto], fars: list[float]) -> Estimate:
    names = sorted({p.identity for p in photos})
    person_ids = np.array([names.index(p.identity) for p in photos], dtype=np.int64)
    vectors = np.stack([p.embedding for p in photos]).astype(np.float32)
    return estimate(gallery_scores(person_ids, vectors, max_probes=10_000), fars)


def test_people_threshold_lies_in_the_gap_it_measures(photos: list[EmbeddedPhoto]) -> None:
    people = [p for p in photos if p.identity.startswith("people/")]
    measured = _estimate(people, [0.01])
    pairs = all_pairs(people)
    assert measured.highest_impostor == round(float(pairs.different.max()), 4)
    assert measured.lowest_genuine == round(float(pairs.same.min()), 4)
    assert measured.excluded_pairs == 0  # nobody here is enrolled twice
    (one_percent,) = measured.recommendations
    assert measured.highest_impostor < one_percent.threshold < measured.lowest_genuine
    assert one_percent.estimated_tar == 1.0


def test_a_person_enrolled_twice_is_left_out_not_taken_as_an_impostor(
    photos: list[EmbeddedPhoto],
) -> None:
    people = [p for p in photos if p.identity.startswith("people/")]
    obama = [p for p in people if p.identity == "people/fr_obama"]
    assert len(obama) >= 4
    twice = [
        EmbeddedPhoto("people/obama-again", p.name, p.embedding) if p in obama[::2] else p
        for p in people
    ]
    clean, dirty = _estimate(people, [0.01]), _estimate(twice, [0.01])
    assert dirty.excluded_pairs > 0 and clean.lowest_genuine is not None
    taken_at_face_value = float(all_pairs(twice).different.max())
    assert taken_at_face_value > clean.lowest_genuine  # the trap: it looks like an impostor
    assert dirty.highest_impostor < clean.lowest_genuine
    assert dirty.recommendations[0].threshold < clean.lowest_genuine


def test_enough_probes_read_the_quantile_off_the_scores(photos: list[EmbeddedPhoto]) -> None:
    measured = _estimate(photos, [0.05])
    assert measured.probes == len(photos)
    names = sorted({p.identity for p in photos})
    ids = np.array([names.index(p.identity) for p in photos])
    vectors = np.stack([p.embedding for p in photos])
    best = gallery_scores(ids, vectors, 10_000).impostors[:, 0]
    threshold, method = threshold_for(best, 0.05)
    assert method == EMPIRICAL and threshold == measured.recommendations[0].threshold
    assert np.mean(best >= threshold) <= 0.05 < np.mean(best >= threshold - 0.0001)


def test_a_tiny_gallery_is_refused(photos: list[EmbeddedPhoto]) -> None:
    with pytest.raises(CalibrationUnavailableError):
        _estimate(photos[:10], [0.01])
    empty = gallery_scores(np.empty(0, np.int64), np.empty((0, 512), np.float32), 10_000)
    with pytest.raises(CalibrationUnavailableError, match="the gallery has 0 faces"):
        estimate(empty, [0.01])


def test_held_out_strangers_are_never_in_the_gallery(photos: list[EmbeddedPhoto]) -> None:
    part = split(photos, seed=3)
    enrolled = {p.identity for p in part.gallery}
    assert enrolled.isdisjoint(p.identity for p in part.strangers)
    assert {p.identity for p in part.enrolled_probes} <= enrolled
    assert not {p.name for p in part.enrolled_probes} & {p.name for p in part.gallery}
    assert len(part.gallery) + len(part.enrolled_probes) + len(part.strangers) == len(photos)
    report = check_calibration(photos, [0.01], splits=2)
    held_out = report["held_out"]
    assert isinstance(held_out, list)
    (row,) = held_out
    assert row["stranger_probes"] == sum(len(split(photos, s).strangers) for s in range(2))
    assert row["real_far"] < 0.05 and row["real_tar"] > 0.95

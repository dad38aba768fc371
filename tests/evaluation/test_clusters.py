"""The incremental clusterer on real photos: unknown faces of a handful of people, arriving in
random orders, become one cluster per person with the default rule."""

from __future__ import annotations

import numpy as np
import pytest

from facebank.evaluation.cluster_metrics import score_clusters
from facebank.evaluation.clusters import (
    IncrementalClusterer,
    UnknownFace,
    arrival_orders,
    cluster_in_order,
)
from facebank.index.unknown_linker import Assignment, LinkRule
from facebank.pipeline.pipeline import FacePipeline

from ..conftest import PEOPLE, YALE

# Three people of the people set and two Yale subjects (grey, hard light), four photos each.
IDENTITIES = (
    PEOPLE / "deepface_id01", PEOPLE / "deepface_id02", PEOPLE / "fr_obama",
    YALE / "subject01", YALE / "subject02",
)  # fmt: skip
PHOTOS_EACH = 4


@pytest.fixture(scope="module")
def unknown_faces(face_pipeline: FacePipeline) -> list[UnknownFace]:
    faces = []
    for folder in IDENTITIES:
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in {".jpg", ".gif"})
        for photo in photos[:PHOTOS_EACH]:
            _, found = face_pipeline.analyze(photo.read_bytes(), 1)
            faces.append(UnknownFace(folder.name, photo.name, found[0].embedding))
    return faces


def test_default_rule_finds_one_cluster_per_person_in_any_order(
    unknown_faces: list[UnknownFace],
) -> None:
    truth = [f.label for f in unknown_faces]
    for order in arrival_orders(len(unknown_faces), 4, seed=3):
        found = cluster_in_order(LinkRule(), unknown_faces, order)
        scores = score_clusters(truth, found)
        assert (scores.clusters, scores.exact) == (len(IDENTITIES), len(IDENTITIES))
        assert scores.purity == scores.completeness == 1.0


def test_a_link_below_the_different_person_scores_chains_people_together(
    unknown_faces: list[UnknownFace],
) -> None:
    # The evaluation must be able to tell a bad rule: at cosine 0.1 everybody links.
    truth = [f.label for f in unknown_faces]
    found = cluster_in_order(LinkRule(0.1, 1, 20), unknown_faces, range(len(unknown_faces)))
    assert score_clusters(truth, found).purity < 0.5


def test_a_face_linked_well_to_two_clusters_merges_them() -> None:
    # Geometry, not recognition: two far-apart pairs, then one face near all four.
    e = np.eye(4, dtype=np.float32)
    pair_a = [e[0], _unit(e[0] + 0.1 * e[2])]
    pair_b = [e[1], _unit(e[1] + 0.1 * e[3])]
    clusterer = IncrementalClusterer(LinkRule(0.6, 2, 20), dim=4)
    for face_id, vector in enumerate([*pair_a, *pair_b]):
        clusterer.add(face_id, vector)
    a, b = clusterer.cluster_of(0), clusterer.cluster_of(2)
    assert a != b and clusterer.cluster_of(1) == a and clusterer.cluster_of(3) == b
    decision = clusterer.add(9, _unit(e[0] + e[1]))
    assert decision == Assignment(min(a, b), (max(a, b),))  # equal sizes: the lower id stays
    assert {clusterer.cluster_of(i) for i in (0, 1, 2, 3, 9)} == {min(a, b)}


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def test_orders_are_seeded_permutations() -> None:
    assert arrival_orders(5, 2, seed=1) == arrival_orders(5, 2, seed=1)
    assert all(sorted(o) == list(range(5)) for o in arrival_orders(5, 3))

"""Purity, completeness, pairwise and BCubed scores on hand-made labellings."""

from __future__ import annotations

import pytest

from facebank.evaluation.cluster_metrics import score_clusters


def test_a_perfect_clustering_scores_one_everywhere() -> None:
    s = score_clusters(["a", "a", "b", "b", "c"], [1, 1, 2, 2, 3])
    assert (s.faces, s.identities, s.clusters, s.singletons, s.exact) == (5, 3, 3, 1, 3)
    for value in (s.purity, s.completeness, s.pair_precision, s.pair_recall, s.bcubed_f):
        assert value == 1.0


def test_everyone_in_one_cluster_is_complete_but_impure() -> None:
    s = score_clusters(["a", "a", "a", "b"], [1, 1, 1, 1])
    assert s.purity == 0.75 and s.completeness == 1.0
    assert s.pair_precision == 3 / 6 and s.pair_recall == 1.0
    # a-faces: 3/4 of their cluster is them; the b-face: 1/4
    assert s.bcubed_precision == pytest.approx((3 * 0.75 + 0.25) / 4)
    assert s.bcubed_recall == 1.0
    assert s.exact == 0


def test_all_singletons_are_pure_but_incomplete() -> None:
    s = score_clusters(["a", "a", "b", "b"], [1, 2, 3, 4])
    assert s.purity == 1.0 and s.completeness == 0.5
    assert s.pair_precision == 1.0 and s.pair_recall == 0.0
    assert s.bcubed_recall == 0.5 and s.bcubed_f == pytest.approx(2 / 3)
    assert s.singletons == 4


def test_unlabelled_faces_are_clustered_but_not_scored() -> None:
    # The distractor sits in a's cluster: not a's fault, not counted.
    s = score_clusters(["a", None, "a", "b"], [1, 1, 1, 2])
    assert (s.faces, s.clusters, s.purity, s.bcubed_f) == (3, 2, 1.0, 1.0)
    assert s.with_unlabelled == 2 / 3  # but two of the three share a cluster with it


def test_mismatched_or_empty_labellings_are_refused() -> None:
    with pytest.raises(ValueError, match="1 labels for 2 cluster ids"):
        score_clusters(["a"], [1, 2])
    with pytest.raises(ValueError, match="no labelled faces"):
        score_clusters([None], [1])

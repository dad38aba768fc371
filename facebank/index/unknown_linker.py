"""Which cluster a new unknown face joins: a density rule over its neighbours.

Incremental DBSCAN-like linking. A neighbour is a kept face with cosine ≥ `link` to the new
face. The new face joins the cluster holding most of its neighbours when that cluster gives
it at least `min_links` of them (or all of a cluster smaller than that); otherwise it starts
a cluster. When it is that well linked to two or more clusters, they are one stranger seen
twice before the link appeared, and merge into the largest. The parameters are measured on
real photos (`facebank eval-clusters`) and documented in the README.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class LinkRule:
    link: float  # cosine at or above which two faces are neighbours
    min_links: int  # neighbours in a cluster needed to join (or merge) it
    neighbours: int  # how many nearest faces are looked at


@dataclass(frozen=True)
class Assignment:
    cluster_id: int | None  # the cluster to join; None: start a new one
    merged: tuple[int, ...] = ()  # other clusters folded into `cluster_id`


def assign(
    rule: LinkRule,
    neighbour_clusters: Sequence[int],
    cluster_sizes: Mapping[int, int],
) -> Assignment:
    """`neighbour_clusters`: the current cluster of each neighbour (those still stored);
    `cluster_sizes`: the size of each of those clusters."""
    counts = Counter(neighbour_clusters)
    linked = [
        cluster
        for cluster, count in counts.items()
        if count >= min(rule.min_links, cluster_sizes.get(cluster, count))
    ]
    if not linked:
        return Assignment(None)
    linked.sort(key=lambda c: (-cluster_sizes.get(c, 0), -counts[c], c))
    return Assignment(linked[0], tuple(sorted(linked[1:])))

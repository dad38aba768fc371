"""Which cluster a new unknown face joins: a density rule over its neighbours.

Incremental DBSCAN-like linking. A neighbour is a kept face with cosine ≥ `link` to the new
face. The new face joins the cluster holding most of its neighbours when that cluster gives
it at least `min_links` of them (or all of a cluster smaller than that); otherwise it starts
a cluster. When it is that well linked to two or more clusters, they are one stranger seen
twice before the link appeared, and merge into the largest. Needing `min_links` links into
a cluster of two or more is what resists chaining: one look-alike face bridging two people
links to one face of each, which is not enough to join either, let alone merge them.

The defaults are measured on real photos (`facebank eval-clusters --sweep`, docs/clusters.md):
every photo of ../shared/faces clustered perfectly for links 0.30-0.475 at min_links 2; among
10,000 synthetic strangers (harder than real ones) clusters stay pure from 0.325 and are
also whole from 0.375; above 0.475 some people split. 0.425 is the middle of what works.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_LINK = 0.425
DEFAULT_MIN_LINKS = 2
DEFAULT_NEIGHBOURS = 20  # above the most photos of one identity measured (11), so never binding


@dataclass(frozen=True)
class LinkRule:
    link: float = DEFAULT_LINK  # cosine at or above which two faces are neighbours
    min_links: int = DEFAULT_MIN_LINKS  # neighbours in a cluster needed to join (or merge) it
    neighbours: int = DEFAULT_NEIGHBOURS  # how many nearest faces are looked at


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

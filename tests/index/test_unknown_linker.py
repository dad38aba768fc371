"""unknown_linker.assign: which cluster a new unknown face joins, given its neighbours'
clusters, and when two clusters merge (and when a lone bridge must not merge them)."""

from __future__ import annotations

from facebank.index.unknown_linker import (
    DEFAULT_LINK,
    DEFAULT_MIN_LINKS,
    DEFAULT_NEIGHBOURS,
    Assignment,
    LinkRule,
    assign,
)

RULE = LinkRule(link=0.425, min_links=2, neighbours=20)


def test_defaults_are_the_measured_constants() -> None:
    assert LinkRule() == LinkRule(DEFAULT_LINK, DEFAULT_MIN_LINKS, DEFAULT_NEIGHBOURS)
    assert (DEFAULT_LINK, DEFAULT_MIN_LINKS, DEFAULT_NEIGHBOURS) == (0.425, 2, 20)


def test_no_neighbour_starts_a_cluster() -> None:
    assert assign(RULE, [], {}) == Assignment(None)


def test_enough_links_join_the_cluster() -> None:
    assert assign(RULE, [7, 7, 7], {7: 5}) == Assignment(7)


def test_one_link_into_a_bigger_cluster_is_not_enough() -> None:
    assert assign(RULE, [7], {7: 5}) == Assignment(None)


def test_one_link_to_a_lone_face_joins_it() -> None:
    # A cluster smaller than min_links cannot give more links than it has faces.
    assert assign(RULE, [3], {3: 1}) == Assignment(3)


def test_well_linked_to_two_clusters_merges_them_into_the_largest() -> None:
    assert assign(RULE, [4, 9, 4, 9, 9], {4: 2, 9: 6}) == Assignment(9, (4,))


def test_a_lone_bridge_does_not_chain_two_people() -> None:
    # One look-alike link into each of two established clusters: neither joined nor merged.
    assert assign(RULE, [4, 9], {4: 5, 9: 6}) == Assignment(None)


def test_a_bridge_joins_only_the_cluster_it_is_well_linked_to() -> None:
    assert assign(RULE, [9, 9, 9, 4], {4: 5, 9: 6}) == Assignment(9)


def test_single_linkage_joins_on_one_link() -> None:
    single = LinkRule(0.425, 1, 20)
    assert assign(single, [4, 9], {4: 5, 9: 6}) == Assignment(9, (4,))


def test_the_settings_defaults_are_the_measured_rule() -> None:
    # config sits below index, so it spells the numbers out; they must not drift apart.
    from facebank.config import Settings
    from facebank.index.unknown_linker import (
        DEFAULT_LINK,
        DEFAULT_MIN_LINKS,
        DEFAULT_NEIGHBOURS,
    )

    fields = Settings.model_fields
    assert fields["unknown_link"].default == DEFAULT_LINK
    assert fields["unknown_min_links"].default == DEFAULT_MIN_LINKS
    assert fields["unknown_neighbours"].default == DEFAULT_NEIGHBOURS

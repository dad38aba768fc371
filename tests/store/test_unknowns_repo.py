"""The unknown faces' repository on every backend: keep and cluster bookkeeping, reads,
deletes, closing a cluster, and concurrent keeps serialised by the head lock.

The store is told the clustering decision (a stand-in for the vectors: the store's job is
the bookkeeping, the real photos go through tests/services/test_unknowns.py)."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from numpy.typing import NDArray
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from facebank.errors import ConflictError, NotFoundError
from facebank.store.unknown_records import (
    ClusterFilter,
    ClusterOrder,
    ClusterStatus,
    NewUnknownFace,
    SeenWhere,
)
from facebank.store.unknowns import Decision, UnknownRepository
from tests.store.factories import new_face

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Told:
    """Neighbours as told; the decision: the first neighbour's cluster (merging the rest)."""

    def __init__(self, neighbours: Sequence[int] = ()) -> None:
        self._neighbours = list(neighbours)
        self.taken: list[int] = []
        self.gone_ids: list[int] = []

    def after_id(self) -> int:
        return 0

    def take(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        self.taken.extend(int(i) for i in ids)

    def neighbours(self) -> list[int]:
        return self._neighbours

    def gone(self, ids: list[int]) -> None:
        self.gone_ids.extend(ids)

    def decide(self, clusters: Sequence[int], sizes: Mapping[int, int]) -> Decision:
        if not clusters:
            return None, ()
        first = clusters[0]
        return first, tuple(sorted({c for c in clusters if c != first}))


class Everyone(Told):
    """Every face kept so far is a neighbour (one stranger): what two racing keeps see."""

    def neighbours(self) -> list[int]:
        return self.taken


@pytest.fixture
def repo(engine: Engine, sessions: sessionmaker[Session]) -> UnknownRepository:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM unknown_faces"))
        conn.execute(text("DELETE FROM unknown_clusters"))
    return UnknownRepository(sessions)


def sighting(seed: int, minutes: float = 0, face_px: int = 100, **where: object) -> NewUnknownFace:
    face = new_face(seed)
    quality = {**face.quality, "face_px": face_px}
    return NewUnknownFace(
        face=type(face)(**{**face.__dict__, "quality": quality}),
        source="session",
        seen_at=T0 + timedelta(minutes=minutes),
        **where,  # type: ignore[arg-type]
    )


def test_keep_starts_joins_and_merges_clusters(repo: UnknownRepository) -> None:
    a = repo.keep(sighting(1, 0, face_px=40), Told())
    assert a.created and a.cluster_size == 1
    a2 = repo.keep(sighting(2, 5, face_px=110), Told([a.face.id]))
    assert not a2.created and a2.face.cluster_id == a.face.cluster_id and a2.cluster_size == 2
    told = Told([999_999])
    b = repo.keep(sighting(3, 10), told)  # a neighbour that is gone: ignored, and said so
    assert b.created and b.face.cluster_id != a.face.cluster_id
    assert told.gone_ids == [999_999]

    joined = repo.keep(sighting(4, 20, face_px=30), Told([a.face.id, b.face.id]))
    assert joined.merged == (b.face.cluster_id,) and joined.cluster_size == 4
    cluster = repo.get_cluster(a.face.cluster_id)
    assert (cluster.size, cluster.first_seen, cluster.last_seen) == (
        4,
        T0,
        T0 + timedelta(minutes=20),
    )
    assert cluster.representative_face_id == a2.face.id  # the largest face
    with pytest.raises(NotFoundError):
        repo.get_cluster(b.face.cluster_id)
    faces = repo.cluster_faces(a.face.cluster_id)
    assert {f.id for f in faces} == {a.face.id, a2.face.id, b.face.id, joined.face.id}
    assert faces[0].id == a2.face.id  # best first


def test_list_filters_orders_and_pages(repo: UnknownRepository) -> None:
    big = repo.keep(sighting(1, 0, session_id=7, camera_id=70), Told())
    repo.keep(sighting(2, 1, session_id=7, camera_id=71), Told([big.face.id]))
    new = repo.keep(sighting(3, 30, session_id=8, camera_id=80), Told())

    def ids(criteria: ClusterFilter, order: ClusterOrder = ClusterOrder.LARGEST) -> list[int]:
        return [c.cluster.id for c in repo.list_clusters(criteria, order, 0, 10).items]

    assert ids(ClusterFilter()) == [big.face.cluster_id, new.face.cluster_id]
    assert ids(ClusterFilter(), ClusterOrder.NEWEST) == [new.face.cluster_id, big.face.cluster_id]
    assert ids(ClusterFilter(session_id=8)) == [new.face.cluster_id]
    assert ids(ClusterFilter(camera_id=71)) == [big.face.cluster_id]
    assert ids(ClusterFilter(camera_id=2**63)) == [] and ids(ClusterFilter(session_id=2**40)) == []
    assert ids(ClusterFilter(seen_after=T0 + timedelta(minutes=10))) == [new.face.cluster_id]
    assert ids(ClusterFilter(seen_before=T0 + timedelta(minutes=10))) == [big.face.cluster_id]
    page = repo.list_clusters(ClusterFilter(), ClusterOrder.LARGEST, 1, 1)
    assert page.total == 2 and [c.cluster.id for c in page.items] == [new.face.cluster_id]


def test_a_listing_says_where_each_cluster_was_seen(repo: UnknownRepository) -> None:
    first = repo.keep(sighting(1, 0, session_id=3, camera_id=30, camera_name="door"), Told())
    near = Told([first.face.id])
    for n, (session_id, camera) in enumerate([(3, 30), (3, 31), (4, 40), (5, 50), (6, 60)]):
        where = {"session_id": session_id, "camera_id": camera, "camera_name": f"cam-{camera}"}
        repo.keep(sighting(10 + n, 1 + n, **where), near)
    for n in range(3):  # uploads: no session, no camera
        repo.keep(replace(sighting(20 + n, 10 + n), source="recognize"), near)
    for n, session_id in enumerate([7, 8]):
        where = {"session_id": session_id, "camera_id": 70 + n, "camera_name": f"cam-{70 + n}"}
        repo.keep(sighting(30 + n, 20 + n, **where), near)
    other = repo.keep(replace(sighting(40, 30), source="recognize"), Told())

    page = repo.list_clusters(ClusterFilter(), ClusterOrder.LARGEST, 0, 10)
    seen = {s.cluster.id: s.seen for s in page.items}
    big = seen[first.face.cluster_id]
    assert big.sessions == (3, 4, 5, 6, 7) and big.session_count == 6
    assert [c.id for c in big.cameras] == [30, 31, 40, 50, 60] and big.camera_count == 7
    assert big.cameras[0].name in {"door", "cam-30"} and big.cameras[1].name == "cam-31"
    assert big.uploads == 3
    assert seen[other.face.cluster_id] == SeenWhere(uploads=1)


def test_deletes_fix_the_cluster_and_drop_empty_ones(repo: UnknownRepository) -> None:
    a = repo.keep(sighting(1, 0, face_px=110), Told())
    a2 = repo.keep(sighting(2, 5, face_px=50), Told([a.face.id]))
    assert repo.delete_face(a.face.id).id == a.face.id
    cluster = repo.get_cluster(a.face.cluster_id)
    assert (cluster.size, cluster.representative_face_id) == (1, a2.face.id)
    assert cluster.first_seen == T0 + timedelta(minutes=5)
    repo.delete_faces([a2.face.id])
    with pytest.raises(NotFoundError):
        repo.get_cluster(a.face.cluster_id)
    with pytest.raises(NotFoundError):
        repo.delete_face(a.face.id)


def test_expired_faces_are_those_seen_before_the_cutoff(repo: UnknownRepository) -> None:
    old = repo.keep(sighting(1, 0), Told())
    repo.keep(sighting(2, 60), Told())
    expired = repo.expired_faces(T0 + timedelta(minutes=30))
    assert [f.id for f in expired] == [old.face.id]


def test_close_keeps_the_row_and_deletes_the_faces(repo: UnknownRepository) -> None:
    a = repo.keep(sighting(1), Told())
    repo.keep(sighting(2), Told([a.face.id]))
    closed, removed = repo.close_cluster(a.face.cluster_id, ClusterStatus.NAMED, 42)
    assert (closed.status, closed.person_id, closed.size) == (ClusterStatus.NAMED, 42, 2)
    assert len(removed) == 2 and repo.cluster_faces(a.face.cluster_id) == []
    with pytest.raises(ConflictError):
        repo.close_cluster(a.face.cluster_id, ClusterStatus.DISMISSED, None)
    assert repo.list_clusters(ClusterFilter(), ClusterOrder.NEWEST, 0, 10).total == 0
    named = repo.list_clusters(ClusterFilter(status=ClusterStatus.NAMED), ClusterOrder.NEWEST, 0, 5)
    assert [c.cluster.id for c in named.items] == [a.face.cluster_id]
    both = frozenset({ClusterStatus.NAMED, ClusterStatus.DISMISSED})
    assert repo.list_clusters(ClusterFilter(status=both), ClusterOrder.NEWEST, 0, 5).total == 1
    assert repo.list_clusters(ClusterFilter(status=None), ClusterOrder.NEWEST, 0, 5).total == 1
    # A closed cluster has no faces left: nowhere seen.
    assert named.items[0].seen == SeenWhere()


def test_flag_and_media_refs(repo: UnknownRepository) -> None:
    a = repo.keep(sighting(1), Told())
    assert repo.set_match(a.face.cluster_id, 5, 0.61)
    flagged = repo.get_cluster(a.face.cluster_id)
    assert (flagged.match_person_id, flagged.match_score) == (5, 0.61)
    clusters, vectors = repo.open_representatives("model-a")
    assert [c.id for c in clusters] == [a.face.cluster_id] and vectors.shape == (1, 16)
    assert repo.media_ref_in_use(a.face.media_ref)
    assert a.face.media_ref in repo.all_media_refs()
    repo.delete_face(a.face.id)
    assert not repo.media_ref_in_use(a.face.media_ref)


def test_concurrent_keeps_of_one_stranger_make_one_cluster(repo: UnknownRepository) -> None:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def keep_some(first_seed: int) -> None:
        try:
            start.wait()
            for seed in range(first_seed, first_seed + 5):
                repo.keep(sighting(seed), Everyone())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=keep_some, args=(s,)) for s in (100, 200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    page = repo.list_clusters(ClusterFilter(), ClusterOrder.LARGEST, 0, 10)
    assert [c.cluster.size for c in page.items] == [10]

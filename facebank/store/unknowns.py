"""Kept unknown faces and their clusters (issue 12): keep and cluster, read, close, delete.

Every write bumps the one `unknown_head` row first and so holds its lock to the commit: a
keep reads its neighbours' clusters and writes its own under that lock, so two faces of one
stranger kept at once (two threads, two workers, two machines) cannot both start a cluster,
and no delete or merge can move a neighbour while it is looked at. One lock order for every
writer (head, then clusters and faces) leaves nothing to deadlock on.

The store knows nothing of vectors' search: `keep` hands a `Clustering` (the service's)
the rows it has not seen yet and asks it for the neighbours and the decision, inside the
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import ColumnElement, delete, exists, false, func, select, update
from sqlalchemy.orm import Session

from facebank.errors import ConflictError, NotFoundError
from facebank.store.coltypes import utcnow
from facebank.store.media_use import media_ref_used
from facebank.store.paging import Page
from facebank.store.tables import NegativeLabel, UnknownCluster, UnknownFace, UnknownHead
from facebank.store.tx import IN_CHUNK, SessionFactory, run_read, run_write
from facebank.store.unknown_records import (
    ClusterFilter,
    ClusterOrder,
    ClusterStatus,
    ClusterSummary,
    KeptFace,
    NewUnknownFace,
    SeenWhere,
    UnknownClusterRecord,
    UnknownFaceRecord,
    best_first,
    cluster_record,
    face_record,
    quality_rank,
    storable_time,
)
from facebank.store.unknown_seen import seen_where
from facebank.store.validation import check_media_ref, is_storable_id
from facebank.store.vectors import decode_embeddings

HEAD_ID = 1
Decision = tuple[int | None, tuple[int, ...]]  # cluster to join (None: new), clusters merged


class Clustering(Protocol):
    """The vector side of one keep, called inside its transaction, under the head lock."""

    def after_id(self) -> int:
        """The highest face id the vectors hold: newer rows are handed to `take` first."""
        ...

    def take(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None: ...

    def neighbours(self) -> list[int]:
        """Face ids near the face being kept (some may be gone: they are ignored)."""
        ...

    def gone(self, ids: list[int]) -> None:
        """Neighbours whose rows are gone (another worker deleted them): drop the vectors."""
        ...

    def decide(self, neighbour_clusters: Sequence[int], sizes: Mapping[int, int]) -> Decision: ...


class UnknownRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    # --- keeping ----------------------------------------------------------------------------

    def keep(self, new: NewUnknownFace, clustering: Clustering) -> KeptFace:
        def work(session: Session) -> KeptFace:
            _lock_head(session)
            ids, vectors = _vectors_after(session, new.face.model_id, clustering.after_id())
            clustering.take(ids, vectors)
            neighbours = clustering.neighbours()
            found = _clusters_of(session, neighbours)
            if len(found) < len(neighbours):
                clustering.gone([i for i in neighbours if i not in found])
            clusters = [found[i] for i in neighbours if i in found]
            sizes = _sizes(session, set(clusters))
            cluster_id, merged = clustering.decide(clusters, sizes)
            return _insert(session, new, cluster_id, merged)

        return run_write(self._sessions, work)

    def vectors_after(
        self, model_id: str, after_id: int, limit: int = 5000
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Kept faces of a model with id > `after_id`, oldest first (building the vectors)."""
        return run_read(self._sessions, lambda s: _vectors_after(s, model_id, after_id, limit))

    # --- reads ------------------------------------------------------------------------------

    def version(self) -> int:
        """Bumped by every change to the unknown faces: one primary-key read."""

        def work(session: Session) -> int:
            return int(
                session.scalar(select(UnknownHead.version).where(UnknownHead.id == HEAD_ID)) or 0
            )

        return run_read(self._sessions, work)

    def get_cluster(self, cluster_id: int) -> UnknownClusterRecord:
        return run_read(self._sessions, lambda s: cluster_record(_cluster(s, cluster_id)))

    def cluster_faces(self, cluster_id: int) -> list[UnknownFaceRecord]:
        """The cluster's faces, best first (an unknown cluster: NotFoundError)."""

        def work(session: Session) -> list[UnknownFaceRecord]:
            _cluster(session, cluster_id)
            return best_first(_faces_in(session, [cluster_id]))

        return run_read(self._sessions, work)

    def get_face(self, face_id: int) -> UnknownFaceRecord:
        return run_read(self._sessions, lambda s: face_record(_face(s, face_id)))

    def list_clusters(
        self, criteria: ClusterFilter, order: ClusterOrder, offset: int, limit: int
    ) -> Page[ClusterSummary]:
        """A page of clusters, each with where its faces were seen (one grouped query for
        the page, in the same read)."""
        conditions = _conditions(criteria)

        def work(session: Session) -> Page[ClusterSummary]:
            total = session.scalar(select(func.count(UnknownCluster.id)).where(*conditions))
            query = select(UnknownCluster).where(*conditions).order_by(*_order_by(order))
            rows = [cluster_record(r) for r in session.scalars(query.offset(offset).limit(limit))]
            seen = seen_where(session, [r.id for r in rows])
            items = [ClusterSummary(r, seen.get(r.id, SeenWhere())) for r in rows]
            return Page(items, int(total or 0), offset, limit)

        return run_read(self._sessions, work)

    def expired_faces(self, cutoff: datetime, limit: int = 1000) -> list[UnknownFaceRecord]:
        """Faces seen before `cutoff`, oldest first (the retention sweep's work)."""

        def work(session: Session) -> list[UnknownFaceRecord]:
            query = select(UnknownFace).where(UnknownFace.seen_at < cutoff)
            rows = session.scalars(query.order_by(UnknownFace.seen_at, UnknownFace.id).limit(limit))
            return [face_record(r) for r in rows]

        return run_read(self._sessions, work)

    def open_representatives(
        self, model_id: str
    ) -> tuple[list[UnknownClusterRecord], NDArray[np.float32]]:
        """Every open cluster with its representative face's embedding (the flag check)."""

        def work(session: Session) -> tuple[list[UnknownClusterRecord], NDArray[np.float32]]:
            query = (
                select(UnknownCluster, UnknownFace.embedding, UnknownFace.dim)
                .join(UnknownFace, UnknownFace.id == UnknownCluster.representative_face_id)
                .where(UnknownCluster.status == ClusterStatus.OPEN.value)
                .where(UnknownFace.model_id == model_id)
                .order_by(UnknownCluster.id)
            )
            rows = session.execute(query).all()
            vectors = decode_embeddings([bytes(r[1]) for r in rows], [int(r[2]) for r in rows])
            return [cluster_record(r[0]) for r in rows], vectors

        return run_read(self._sessions, work)

    def media_ref_in_use(self, ref: str) -> bool:
        """Whether any gallery face, kept unknown or negative label still uses this file:
        a crop enrolled as a face keeps its bytes, so the ref is shared."""
        check_media_ref(ref)
        return run_read(self._sessions, lambda session: media_ref_used(session, ref))

    def all_media_refs(self) -> set[str]:
        """The files unknown faces and negative labels use (the start's media sweep)."""

        def work(session: Session) -> set[str]:
            refs = set(session.scalars(select(UnknownFace.media_ref).distinct()))
            return refs | set(session.scalars(select(NegativeLabel.media_ref).distinct()))

        return run_read(self._sessions, work)

    # --- changes ----------------------------------------------------------------------------

    def delete_faces(self, face_ids: Iterable[int]) -> list[UnknownFaceRecord]:
        """Delete these faces (missing ones are skipped), fixing their clusters' size, first
        and last seen and representative; an open cluster left empty goes too."""
        wanted = sorted({int(i) for i in face_ids if is_storable_id(int(i))})

        def work(session: Session) -> list[UnknownFaceRecord]:
            _lock_head(session)
            removed = _faces_by_id(session, wanted)
            for start in range(0, len(removed), IN_CHUNK):
                chunk = [f.id for f in removed[start : start + IN_CHUNK]]
                session.execute(delete(UnknownFace).where(UnknownFace.id.in_(chunk)))
            for cluster_id in sorted({f.cluster_id for f in removed}):
                _refresh(session, cluster_id)
            return removed

        return run_write(self._sessions, work)

    def delete_face(self, face_id: int) -> UnknownFaceRecord:
        removed = self.delete_faces([face_id])
        if not removed:
            raise NotFoundError(f"unknown face {face_id} not found", unknown_face_id=face_id)
        return removed[0]

    def close_cluster(
        self, cluster_id: int, status: ClusterStatus, person_id: int | None
    ) -> tuple[UnknownClusterRecord, list[UnknownFaceRecord]]:
        """Take an open cluster out of the queue: its faces are deleted (returned, for their
        files and vectors), its row stays as history with `status` and `person_id`."""

        def work(session: Session) -> tuple[UnknownClusterRecord, list[UnknownFaceRecord]]:
            _lock_head(session)
            row = _open_cluster(session, cluster_id, lock=True)
            removed = _faces_in(session, [cluster_id])
            session.execute(delete(UnknownFace).where(UnknownFace.cluster_id == cluster_id))
            row.status, row.person_id = status.value, person_id
            row.representative_face_id, row.updated_at = None, utcnow()
            session.flush()
            return cluster_record(row), removed

        return run_write(self._sessions, work)

    def require_open(self, cluster_id: int) -> UnknownClusterRecord:
        return run_read(self._sessions, lambda s: cluster_record(_open_cluster(s, cluster_id)))

    def set_match(self, cluster_id: int, person_id: int | None, score: float | None) -> bool:
        """Flag (or unflag) an open cluster as matching an enrolled person; False when the
        cluster is gone or closed meanwhile."""

        def work(session: Session) -> bool:
            _lock_head(session)
            row = session.get(UnknownCluster, cluster_id, with_for_update=True)
            if row is None or row.status != ClusterStatus.OPEN.value:
                return False
            row.match_person_id, row.match_score, row.updated_at = person_id, score, utcnow()
            return True

        return run_write(self._sessions, work)


# --- the keep transaction -----------------------------------------------------------------


def _lock_head(session: Session) -> None:
    # The UPDATE takes the row lock (held to the commit) on every backend; SQLite's writes
    # are serialised by BEGIN IMMEDIATE already.
    session.execute(
        update(UnknownHead).where(UnknownHead.id == HEAD_ID).values(version=UnknownHead.version + 1)
    )


def _vectors_after(
    session: Session, model_id: str, after_id: int, limit: int | None = None
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    query = (
        select(UnknownFace.id, UnknownFace.embedding, UnknownFace.dim)
        .where(UnknownFace.model_id == model_id, UnknownFace.id > after_id)
        .order_by(UnknownFace.id)
    )
    rows = session.execute(query if limit is None else query.limit(limit)).all()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    return ids, decode_embeddings([bytes(r[1]) for r in rows], [int(r[2]) for r in rows])


def _clusters_of(session: Session, face_ids: Sequence[int]) -> dict[int, int]:
    """The current cluster of each face that still exists."""
    wanted = [int(i) for i in face_ids]
    found: dict[int, int] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        query = select(UnknownFace.id, UnknownFace.cluster_id).where(UnknownFace.id.in_(chunk))
        found.update({int(i): int(c) for i, c in session.execute(query)})
    return found


def _sizes(session: Session, cluster_ids: set[int]) -> dict[int, int]:
    if not cluster_ids:
        return {}
    query = select(UnknownCluster.id, UnknownCluster.size).where(
        UnknownCluster.id.in_(sorted(cluster_ids))
    )
    return {int(i): int(s) for i, s in session.execute(query)}


def _insert(
    session: Session, new: NewUnknownFace, cluster_id: int | None, merged: tuple[int, ...]
) -> KeptFace:
    now = utcnow()
    if cluster_id is None:
        cluster = UnknownCluster(
            status=ClusterStatus.OPEN.value, size=0, first_seen=new.seen_at,
            last_seen=new.seen_at, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(cluster)
        session.flush()
    else:
        cluster = _open_cluster(session, cluster_id, lock=True)
    for other in merged:
        _absorb(session, cluster, _open_cluster(session, other, lock=True))
    row = UnknownFace(
        cluster_id=cluster.id, source=new.source, session_id=new.session_id,
        camera_id=new.camera_id, camera_name=new.camera_name, seen_at=new.seen_at,
        created_at=now, **asdict(new.face),
    )  # fmt: skip
    session.add(row)
    session.flush()
    cluster.size += 1
    cluster.first_seen = min(cluster.first_seen, new.seen_at)
    cluster.last_seen = max(cluster.last_seen, new.seen_at)
    cluster.updated_at = now
    if _better(session, row, cluster.representative_face_id):
        cluster.representative_face_id = row.id
    session.flush()
    record = face_record(row)
    return KeptFace(record, cluster.size, cluster_id is None, tuple(merged))


def _absorb(session: Session, into: UnknownCluster, other: UnknownCluster) -> None:
    """Fold `other` into `into`: one stranger whose two clusters a new face linked."""
    session.execute(
        update(UnknownFace).where(UnknownFace.cluster_id == other.id).values(cluster_id=into.id)
    )
    into.size += other.size
    into.first_seen = min(into.first_seen, other.first_seen)
    into.last_seen = max(into.last_seen, other.last_seen)
    if other.representative_face_id is not None:
        candidate = session.get(UnknownFace, other.representative_face_id)
        if candidate is not None and _better(session, candidate, into.representative_face_id):
            into.representative_face_id = candidate.id
    into.match_person_id = into.match_person_id or other.match_person_id
    into.match_score = into.match_score if into.match_score is not None else other.match_score
    session.delete(other)
    session.flush()


def _better(session: Session, face: UnknownFace, current_id: int | None) -> bool:
    current = session.get(UnknownFace, current_id) if current_id is not None else None
    if current is None:
        return True
    return quality_rank(face.det_score, face.quality) > quality_rank(
        current.det_score, current.quality
    )


def _refresh(session: Session, cluster_id: int) -> None:
    """Recompute a cluster's numbers from the faces left in it."""
    cluster = session.get(UnknownCluster, cluster_id, with_for_update=True)
    if cluster is None:
        return
    left = _faces_in(session, [cluster_id])
    if not left:
        if cluster.status == ClusterStatus.OPEN.value:
            session.delete(cluster)
        return
    cluster.size = len(left)
    cluster.first_seen = min(f.seen_at for f in left)
    cluster.last_seen = max(f.seen_at for f in left)
    cluster.representative_face_id = best_first(left)[0].id
    cluster.updated_at = utcnow()


# --- reads --------------------------------------------------------------------------------


def _cluster(session: Session, cluster_id: int, lock: bool = False) -> UnknownCluster:
    row = (
        session.get(UnknownCluster, cluster_id, with_for_update=lock)
        if is_storable_id(cluster_id)
        else None
    )
    if row is None:
        raise NotFoundError(f"unknown cluster {cluster_id} not found", cluster_id=cluster_id)
    return row


def _open_cluster(session: Session, cluster_id: int, lock: bool = False) -> UnknownCluster:
    row = _cluster(session, cluster_id, lock)
    if row.status != ClusterStatus.OPEN.value:
        raise ConflictError(
            f"unknown cluster {cluster_id} is {row.status}, not open",
            cluster_id=cluster_id,
            status=row.status,
        )
    return row


def _face(session: Session, face_id: int) -> UnknownFace:
    row = session.get(UnknownFace, face_id) if is_storable_id(face_id) else None
    if row is None:
        raise NotFoundError(f"unknown face {face_id} not found", unknown_face_id=face_id)
    return row


def _faces_in(session: Session, cluster_ids: list[int]) -> list[UnknownFaceRecord]:
    query = select(UnknownFace).where(UnknownFace.cluster_id.in_(cluster_ids))
    return [face_record(r) for r in session.scalars(query.order_by(UnknownFace.id))]


def _faces_by_id(session: Session, face_ids: list[int]) -> list[UnknownFaceRecord]:
    found: list[UnknownFaceRecord] = []
    for start in range(0, len(face_ids), IN_CHUNK):
        query = select(UnknownFace).where(UnknownFace.id.in_(face_ids[start : start + IN_CHUNK]))
        found.extend(face_record(r) for r in session.scalars(query.order_by(UnknownFace.id)))
    return found


def _conditions(criteria: ClusterFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if isinstance(criteria.status, ClusterStatus):
        conditions.append(UnknownCluster.status == criteria.status.value)
    elif criteria.status is not None:
        conditions.append(UnknownCluster.status.in_(sorted(s.value for s in criteria.status)))
    seen_in: list[ColumnElement[bool]] = []
    for column, wanted in (
        (UnknownFace.session_id, criteria.session_id),
        (UnknownFace.camera_id, criteria.camera_id),
    ):
        if wanted is not None:
            # An id no column can hold matches nothing (not a driver's overflow).
            seen_in.append(column == wanted if is_storable_id(wanted) else false())
    if seen_in:
        faces = select(UnknownFace.id).where(UnknownFace.cluster_id == UnknownCluster.id, *seen_in)
        conditions.append(exists(faces))
    if criteria.seen_after is not None:
        conditions.append(UnknownCluster.last_seen >= storable_time(criteria.seen_after))
    if criteria.seen_before is not None:
        conditions.append(UnknownCluster.first_seen <= storable_time(criteria.seen_before))
    return conditions


def _order_by(order: ClusterOrder) -> list[Any]:
    if order is ClusterOrder.LARGEST:
        return [
            UnknownCluster.size.desc(),
            UnknownCluster.last_seen.desc(),
            UnknownCluster.id.desc(),
        ]
    return [UnknownCluster.last_seen.desc(), UnknownCluster.id.desc()]

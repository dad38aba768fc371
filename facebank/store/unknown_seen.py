"""Where a page of clusters' faces were seen (issue 12's review cards): one grouped query
for the whole page, folded into a capped `SeenWhere` per cluster."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facebank.store.limits import SEEN_WHERE_MAX
from facebank.store.tables import UnknownFace
from facebank.store.tx import IN_CHUNK
from facebank.store.unknown_records import SeenCamera, SeenWhere

UPLOAD_SOURCE = "recognize"  # faces kept from POST /api/v1/recognize

# One row per (cluster, source, session, camera): a page of 200 clusters is a few hundred rows.
Group = tuple[int, str, int | None, int | None, str | None, int]


def seen_where(session: Session, cluster_ids: Sequence[int]) -> dict[int, SeenWhere]:
    """Each listed cluster's sessions, cameras and uploads; clusters with no faces left
    (closed ones) are absent."""
    groups: list[Group] = []
    wanted = sorted({int(i) for i in cluster_ids})
    for start in range(0, len(wanted), IN_CHUNK):
        query = (
            select(
                UnknownFace.cluster_id,
                UnknownFace.source,
                UnknownFace.session_id,
                UnknownFace.camera_id,
                func.max(UnknownFace.camera_name),
                func.count(UnknownFace.id),
            )
            .where(UnknownFace.cluster_id.in_(wanted[start : start + IN_CHUNK]))
            .group_by(
                UnknownFace.cluster_id,
                UnknownFace.source,
                UnknownFace.session_id,
                UnknownFace.camera_id,
            )
        )
        groups.extend(
            (int(c), str(s), ses, cam, name, int(n))
            for c, s, ses, cam, name, n in session.execute(query)
        )
    by_cluster: dict[int, list[Group]] = defaultdict(list)
    for group in groups:
        by_cluster[group[0]].append(group)
    return {cluster_id: _fold(rows) for cluster_id, rows in by_cluster.items()}


def _fold(groups: list[Group]) -> SeenWhere:
    sessions = sorted({g[2] for g in groups if g[2] is not None})
    cameras: dict[int, str | None] = {}
    for _, _, _, camera_id, name, _ in groups:
        if camera_id is not None:
            cameras[camera_id] = cameras.get(camera_id) or name
    camera_ids = sorted(cameras)
    return SeenWhere(
        sessions=tuple(sessions[:SEEN_WHERE_MAX]),
        session_count=len(sessions),
        cameras=tuple(SeenCamera(i, cameras[i]) for i in camera_ids[:SEEN_WHERE_MAX]),
        camera_count=len(camera_ids),
        uploads=sum(g[5] for g in groups if g[1] == UPLOAD_SOURCE),
    )

"""Kept unknown faces and their clusters as plain records (issue 12), and what a listing asks.

The repository (facebank.store.unknowns) hands these out; callers never see ORM rows.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from facebank.store.limits import CAMERA_NAME_MAX, MODEL_ID_MAX, UNKNOWN_SOURCE_MAX
from facebank.store.people import NewFace
from facebank.store.tables import UnknownCluster, UnknownFace
from facebank.store.validation import check_length, check_text_key


class ClusterStatus(StrEnum):
    OPEN = "open"  # in the review queue
    NAMED = "named"  # enrolled as a new person
    ADDED = "added"  # enrolled into an existing person
    DISMISSED = "dismissed"  # thrown away by a reviewer


class ClusterOrder(StrEnum):
    LARGEST = "largest"  # most faces first
    NEWEST = "newest"  # most recently seen first


@dataclass(frozen=True)
class NewUnknownFace:
    """An unknown face to keep: the enrollable parts (as a gallery face has them: vector,
    geometry in the crop, quality, the crop's media ref) and where and when it was seen."""

    face: NewFace
    source: str
    seen_at: datetime
    session_id: int | None = None
    camera_id: int | None = None
    camera_name: str | None = None

    def __post_init__(self) -> None:
        check_text_key("source", self.source, UNKNOWN_SOURCE_MAX)
        check_text_key("model_id", self.face.model_id, MODEL_ID_MAX)
        if self.camera_name is not None:
            check_length("camera_name", self.camera_name, CAMERA_NAME_MAX)
        if self.seen_at.tzinfo is None:
            raise ValueError("seen_at must be timezone-aware")


@dataclass(frozen=True)
class UnknownFaceRecord:
    id: int
    cluster_id: int
    source: str
    session_id: int | None
    camera_id: int | None
    camera_name: str | None
    model_id: str
    box: list[float]  # in the crop's pixels
    landmarks: list[list[float]]
    det_score: float
    quality: dict[str, Any]
    media_ref: str
    media_type: str
    image_width: int
    image_height: int
    seen_at: datetime
    created_at: datetime

    @property
    def rank(self) -> float:
        return quality_rank(self.det_score, self.quality)


@dataclass(frozen=True)
class UnknownClusterRecord:
    id: int
    status: ClusterStatus
    size: int  # faces in it now; for a closed cluster, the faces it had when it closed
    first_seen: datetime
    last_seen: datetime
    representative_face_id: int | None
    person_id: int | None  # who it became (named / added)
    match_person_id: int | None  # flagged: an enrolled person it matches now
    match_score: float | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class SeenCamera:
    id: int
    name: str | None  # as its latest face recorded it


@dataclass(frozen=True)
class SeenWhere:
    """Where a cluster's faces were seen: the first few sessions and cameras (lowest ids) with
    how many there are in all, and how many faces came from uploads (POST /recognize)."""

    sessions: tuple[int, ...] = ()
    session_count: int = 0
    cameras: tuple[SeenCamera, ...] = ()
    camera_count: int = 0
    uploads: int = 0


@dataclass(frozen=True)
class ClusterSummary:
    """A cluster as a listing shows it: its numbers and where its faces were seen."""

    cluster: UnknownClusterRecord
    seen: SeenWhere


@dataclass(frozen=True)
class ClusterFilter:
    # None: every status; several: any of them.
    status: ClusterStatus | frozenset[ClusterStatus] | None = ClusterStatus.OPEN
    session_id: int | None = None  # clusters with a face from this session
    camera_id: int | None = None  # ... from this camera
    seen_after: datetime | None = None  # last seen at or after
    seen_before: datetime | None = None  # first seen at or before


# The times every backend can compare against (MySQL's DATETIME starts at year 1000).
EARLIEST = datetime(1000, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def storable_time(value: datetime) -> datetime:
    """A filter time moved into the range the columns hold: year 1 with a +05:00 zone is
    before every stored time, not a driver's overflow."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        return EARLIEST if value.year < LATEST.year // 2 else LATEST
    return min(max(utc, EARLIEST), LATEST)


@dataclass(frozen=True)
class KeptFace:
    face: UnknownFaceRecord
    cluster_size: int  # this face included
    created: bool  # the face started its cluster
    merged: tuple[int, ...]  # clusters folded into face.cluster_id by this face


# Full credit from this face size (shorter side, pixels): ArcFace sees 112x112 anyway.
RANK_FULL_PX = 112.0
RANK_MAX_TURN = 90.0


def quality_rank(det_score: float, quality: Mapping[str, Any]) -> float:
    """One number to pick a cluster's best faces by (its representative, the faces enrolled
    when it is named): large, frontal, sharp, confidently detected faces first."""
    size = min(float(quality.get("face_px", 0.0)), RANK_FULL_PX) / RANK_FULL_PX
    turn = max(abs(float(quality.get("yaw", 0.0))), abs(float(quality.get("pitch", 0.0))))
    frontal = max(0.0, 1.0 - min(turn, RANK_MAX_TURN) / RANK_MAX_TURN)
    sharp = min(float(quality.get("blur", 0.0)), 100.0) / 100.0
    return det_score * size * frontal * (0.5 + 0.5 * sharp)


_FACE_FIELDS = tuple(f.name for f in fields(UnknownFaceRecord))
_CLUSTER_FIELDS = tuple(f.name for f in fields(UnknownClusterRecord))


def face_record(row: UnknownFace) -> UnknownFaceRecord:
    return UnknownFaceRecord(**{n: copy.deepcopy(getattr(row, n)) for n in _FACE_FIELDS})


def cluster_record(row: UnknownCluster) -> UnknownClusterRecord:
    values = {n: getattr(row, n) for n in _CLUSTER_FIELDS}
    values["status"] = ClusterStatus(values["status"])
    return UnknownClusterRecord(**values)


def best_first(faces: Sequence[UnknownFaceRecord]) -> list[UnknownFaceRecord]:
    return sorted(faces, key=lambda f: (-f.rank, f.id))

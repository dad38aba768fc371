"""JSON shapes of the unknown faces' review queue (issue 12), derived from the store's
records (facebank.store.unknown_records) and the people's schemas."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from pydantic import BaseModel, Field

from facebank.api import convert, schemas
from facebank.services.unknown_actions import Resolution
from facebank.services.unknowns import ClusterView
from facebank.store.limits import SEEN_WHERE_MAX
from facebank.store.paging import Page
from facebank.store.people import PersonRecord
from facebank.store.unknown_records import (
    ClusterStatus,
    ClusterSummary,
    UnknownClusterRecord,
    UnknownFaceRecord,
)

FACES_PATH = "/api/v1/unknowns/faces"


class UnknownFaceOut(schemas.FaceGeometry):
    id: int
    cluster_id: int
    source: str = Field(description="session or recognize")
    session_id: int | None
    camera_id: int | None
    camera_name: str | None
    model_id: str
    image_width: int = Field(description="of the crop kept")
    image_height: int
    seen_at: datetime
    image_url: str = Field(description="the JPEG crop; box and landmarks are in its pixels")


class UnknownClusterOut(BaseModel):
    id: int
    status: ClusterStatus
    size: int = Field(description="faces in it (a closed cluster: the faces it had)")
    first_seen: datetime
    last_seen: datetime
    representative_face_id: int | None
    representative_url: str | None = Field(description="the best face's crop")
    person_id: int | None = Field(description="who it became (named or added)")
    match_person_id: int | None = Field(
        description="flagged: an enrolled person it matches now (not merged: review it)"
    )
    match_score: float | None


class UnknownClusterWithFaces(UnknownClusterOut):
    faces: list[UnknownFaceOut] = Field(description="best first")


class SeenCameraOut(BaseModel):
    id: int
    name: str | None


class SeenWhereOut(BaseModel):
    sessions: list[int] = Field(description=f"session ids, lowest first, at most {SEEN_WHERE_MAX}")
    session_count: int = Field(description="distinct sessions in all")
    cameras: list[SeenCameraOut] = Field(description=f"lowest ids first, at most {SEEN_WHERE_MAX}")
    camera_count: int = Field(description="distinct cameras in all")
    uploads: int = Field(description="faces kept from uploaded photos (POST /recognize)")


class UnknownClusterListed(UnknownClusterOut):
    seen: SeenWhereOut = Field(description="where its faces were seen (none left: all zero)")


class UnknownClustersPage(BaseModel):
    items: list[UnknownClusterListed]
    total: int
    offset: int
    limit: int


class AddToPerson(BaseModel):
    person_id: int = Field(ge=1)


class RefusedFace(BaseModel):
    unknown_face_id: int
    code: str = Field(examples=["low_quality"])
    message: str


class ClusterResolved(BaseModel):
    cluster: UnknownClusterOut
    person: schemas.PersonWithFaces | None = Field(description="with the faces enrolled now")
    refused: list[RefusedFace] = Field(description="faces enrollment refused")
    faces_deleted: int = Field(description="unknown faces removed from the queue")


def face_url(face_id: int) -> str:
    return f"{FACES_PATH}/{face_id}/image"


def face_out(face: UnknownFaceRecord) -> UnknownFaceOut:
    return UnknownFaceOut.model_validate({**vars(face), "image_url": face_url(face.id)})


def cluster_out(cluster: UnknownClusterRecord) -> UnknownClusterOut:
    rep = cluster.representative_face_id
    return UnknownClusterOut.model_validate(
        {**vars(cluster), "representative_url": None if rep is None else face_url(rep)}
    )


def cluster_with_faces(view: ClusterView) -> UnknownClusterWithFaces:
    return UnknownClusterWithFaces(
        **cluster_out(view.cluster).model_dump(), faces=[face_out(f) for f in view.faces]
    )


def cluster_listed(summary: ClusterSummary) -> UnknownClusterListed:
    seen = SeenWhereOut.model_validate(asdict(summary.seen))
    return UnknownClusterListed(**cluster_out(summary.cluster).model_dump(), seen=seen)


def clusters_page(page: Page[ClusterSummary]) -> UnknownClustersPage:
    return UnknownClustersPage(
        items=[cluster_listed(c) for c in page.items],
        total=page.total,
        offset=page.offset,
        limit=page.limit,
    )


def resolved(result: Resolution) -> ClusterResolved:
    person: PersonRecord | None = result.person
    return ClusterResolved(
        cluster=cluster_out(result.cluster),
        person=None if person is None else convert.person_with_faces(person, result.enrolled),
        refused=[RefusedFace(**vars(r)) for r in result.refused],
        faces_deleted=result.faces_deleted,
    )

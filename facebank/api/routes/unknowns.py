"""The unknown faces' review queue (issue 12): list and read clusters, download a crop,
delete a face; name a cluster as a new person, add it to a person, dismiss it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse
from pydantic import AwareDatetime

from facebank.api import schemas
from facebank.api import unknowns_schemas as out
from facebank.api.deps import InferenceDep, UnknownActionsDep, UnknownsDep
from facebank.api.security import Enroller, Reader
from facebank.store.unknown_records import ClusterFilter, ClusterOrder, ClusterStatus

router = APIRouter(prefix="/api/v1/unknowns", tags=["unknowns"])

ERRORS = schemas.error_responses(400, 404, 409, 422)
MAX_PAGE_SIZE = 200
ANY_STATUS = "any"
_ONE_STATUS = "|".join(s.value for s in ClusterStatus)
STATUS_PATTERN = f"^({ANY_STATUS}|({_ONE_STATUS})(,({_ONE_STATUS}))*)$"


def status_filter(text: str) -> ClusterStatus | frozenset[ClusterStatus] | None:
    """`any`, one status or a comma list of them (already matched against STATUS_PATTERN)."""
    if text == ANY_STATUS:
        return None
    wanted = frozenset(ClusterStatus(part) for part in text.split(","))
    return next(iter(wanted)) if len(wanted) == 1 else wanted


@router.get(
    "/clusters",
    response_model=out.UnknownClustersPage,
    responses=ERRORS,
    summary="Clusters of kept unknown faces, largest or newest first",
)
def list_clusters(
    _: Reader,
    unknowns: UnknownsDep,
    status: Annotated[
        str,
        Query(
            pattern=STATUS_PATTERN,
            max_length=200,
            description="a status, a comma list of them, or `any`",
            examples=["open", "named,added", "any"],
        ),
    ] = ClusterStatus.OPEN.value,
    session_id: Annotated[int | None, Query(ge=1, description="with a face from it")] = None,
    camera_id: Annotated[int | None, Query(ge=1, description="with a face from it")] = None,
    seen_after: Annotated[
        AwareDatetime | None, Query(description="last seen at or after (with a zone)")
    ] = None,
    seen_before: Annotated[
        AwareDatetime | None, Query(description="first seen at or before (with a zone)")
    ] = None,
    order: ClusterOrder = ClusterOrder.LARGEST,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> out.UnknownClustersPage:
    criteria = ClusterFilter(status_filter(status), session_id, camera_id, seen_after, seen_before)
    return out.clusters_page(unknowns.clusters(criteria, order, offset, limit))


@router.get(
    "/clusters/{cluster_id}",
    response_model=out.UnknownClusterWithFaces,
    responses=ERRORS,
    summary="One cluster with its faces, best first",
)
def get_cluster(cluster_id: int, _: Reader, unknowns: UnknownsDep) -> out.UnknownClusterWithFaces:
    return out.cluster_with_faces(unknowns.cluster(cluster_id))


@router.get(
    "/faces/{face_id}/image",
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {"image/jpeg": {}}, "description": "the crop"}},
    summary="Download an unknown face's crop (JPEG)",
)
def face_image(face_id: int, _: Reader, unknowns: UnknownsDep) -> FileResponse:
    crop = unknowns.crop(face_id)
    return FileResponse(crop.path, media_type=f"image/{crop.media_type}")


@router.delete(
    "/faces/{face_id}",
    response_model=schemas.Deleted,
    responses=ERRORS,
    summary="Delete one unknown face (its crop and vector too)",
)
def delete_face(face_id: int, actor: Enroller, actions: UnknownActionsDep) -> schemas.Deleted:
    removed = actions.delete_face(actor, face_id)
    return schemas.Deleted(deleted=removed.id, faces_deleted=1)


@router.post(
    "/clusters/{cluster_id}/name",
    response_model=out.ClusterResolved,
    responses=ERRORS,
    summary="Enroll a cluster as a new person (its best faces, through the quality gate)",
)
async def name_cluster(
    cluster_id: int,
    person: schemas.PersonCreate,
    actor: Enroller,
    actions: UnknownActionsDep,
    inference: InferenceDep,
) -> out.ClusterResolved:
    return out.resolved(await inference.run(actions.name, actor, cluster_id, person))


@router.post(
    "/clusters/{cluster_id}/add",
    response_model=out.ClusterResolved,
    responses=ERRORS,
    summary="Enroll a cluster's best faces into an existing person",
)
async def add_cluster(
    cluster_id: int,
    body: out.AddToPerson,
    actor: Enroller,
    actions: UnknownActionsDep,
    inference: InferenceDep,
) -> out.ClusterResolved:
    return out.resolved(await inference.run(actions.add, actor, cluster_id, body.person_id))


@router.post(
    "/clusters/{cluster_id}/dismiss",
    response_model=out.ClusterResolved,
    responses=ERRORS,
    summary="Dismiss a cluster: its faces are deleted, the row kept as history",
)
def dismiss_cluster(
    cluster_id: int, actor: Enroller, actions: UnknownActionsDep
) -> out.ClusterResolved:
    return out.resolved(actions.dismiss(actor, cluster_id))

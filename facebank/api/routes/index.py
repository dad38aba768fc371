"""The gallery index: status (checked against the database) and rebuild."""

from __future__ import annotations

from fastapi import APIRouter

from facebank.api import schemas
from facebank.api.deps import GalleryDep, IndexDep, InferenceDep
from facebank.api.security import IndexAdmin, Reader

router = APIRouter(prefix="/api/v1/index", tags=["index"])


@router.get("", response_model=schemas.IndexStatusOut, summary="Index status vs the database")
def index_status(_: Reader, index: IndexDep) -> schemas.IndexStatusOut:
    return schemas.IndexStatusOut.model_validate(index.status())


@router.post(
    "/rebuild", response_model=schemas.IndexStatusOut, summary="Rebuild the index from the database"
)
def rebuild_index(actor: IndexAdmin, gallery: GalleryDep) -> schemas.IndexStatusOut:
    return schemas.IndexStatusOut.model_validate(gallery.rebuild_index(actor))


@router.post(
    "/reembed",
    response_model=schemas.ReembedOut,
    summary="Re-embed faces of other model packs from their stored photos",
)
async def reembed(
    actor: IndexAdmin, gallery: GalleryDep, index: IndexDep, inference: InferenceDep
) -> schemas.ReembedOut:
    report = await inference.run(gallery.reembed, actor)
    return schemas.ReembedOut(
        reembedded=report.reembedded,
        failed=[
            schemas.ReembedFailure(face_id=f["face_id"], error=str(f["error"]))
            for f in report.failed
        ],
        index=schemas.IndexStatusOut.model_validate(index.status()),
    )

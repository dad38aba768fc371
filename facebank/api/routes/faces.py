"""Single faces: read, download the enrolled photo, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse

from facebank.api import convert, schemas
from facebank.api.deps import GalleryDep
from facebank.api.security import Enroller, Reader

router = APIRouter(prefix="/api/v1/faces", tags=["faces"])

ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": schemas.ErrorResponse}}


@router.get("/{face_id}", response_model=schemas.FaceOut, responses=ERRORS)
def get_face(face_id: int, _: Reader, gallery: GalleryDep) -> schemas.FaceOut:
    return convert.face_out(gallery.get_face(face_id))


@router.get(
    "/{face_id}/image",
    response_class=FileResponse,
    responses={**ERRORS, 200: {"content": {"image/*": {}}, "description": "the original photo"}},
    summary="Download the original photo this face was enrolled from",
)
def face_image(face_id: int, _: Reader, gallery: GalleryDep) -> FileResponse:
    image = gallery.face_image(face_id)
    return FileResponse(image.path, media_type=f"image/{image.media_type}")


@router.delete("/{face_id}", response_model=schemas.Deleted, responses=ERRORS)
def delete_face(face_id: int, actor: Enroller, gallery: GalleryDep) -> schemas.Deleted:
    removed = gallery.delete_face(actor, face_id)
    return schemas.Deleted(deleted=removed.id, faces_deleted=1)

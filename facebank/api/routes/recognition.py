"""Recognize (1:N), verify (1:1), detect and embed faces in an uploaded photo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile

from facebank.api import convert, schemas
from facebank.api.deps import (
    Inference,
    InferenceDep,
    RecognitionDep,
    SettingsDep,
    read_upload,
)
from facebank.api.security import require
from facebank.auth.roles import Permission
from facebank.config import Settings
from facebank.errors import ValidationFailedError

T = TypeVar("T")

# Reading faces out of a photo never changes anything: viewers may do all of it.
router = APIRouter(
    prefix="/api/v1",
    tags=["recognition"],
    dependencies=[Depends(require(Permission.RECOGNIZE))],
)

ERRORS = schemas.error_responses(400, 404, 413, 422)

PhotoFile = Annotated[UploadFile, File(description="a photo: JPEG, PNG, WebP, BMP or GIF")]
MaxFaces = Annotated[int | None, Query(ge=1, le=200, description="largest faces first")]
Threshold = Annotated[
    float | None, Query(ge=-1.0, le=1.0, description="cosine similarity; default from settings")
]


@router.post(
    "/recognize",
    response_model=schemas.RecognizeResponse,
    responses=ERRORS,
    summary="Identify every face in a photo against the gallery (1:N)",
)
async def recognize(
    recognition: RecognitionDep,
    settings: SettingsDep,
    inference: InferenceDep,
    file: PhotoFile,
    top_k: Annotated[int | None, Query(ge=1, le=100, description="distinct people")] = None,
    threshold: Threshold = None,
    max_faces: MaxFaces = None,
    keep_unknown: Annotated[
        bool | None,
        Form(description="keep unmatched faces for review (default from settings)"),
    ] = None,
) -> schemas.RecognizeResponse:
    data = await read_upload(file, settings.max_upload_bytes, "file")
    result = await inference.run(
        recognition.recognize,
        data,
        top_k or settings.top_k,
        threshold,
        max_faces or settings.max_faces,
        settings.unknown_keep_recognize if keep_unknown is None else keep_unknown,
    )
    return convert.recognition(result, recognition.model_id)


@router.post(
    "/verify",
    response_model=schemas.VerifyResponse,
    responses=ERRORS,
    summary="Verify two photos are the same person, or a photo against an enrolled person",
)
async def verify(
    recognition: RecognitionDep,
    settings: SettingsDep,
    inference: InferenceDep,
    file_a: PhotoFile,
    file_b: Annotated[UploadFile | None, File(description="second photo")] = None,
    person_id: Annotated[int | None, Form(description="enrolled person instead of file_b")] = None,
    threshold: Threshold = None,
) -> schemas.VerifyResponse:
    if (file_b is None) == (person_id is None):
        raise ValidationFailedError("send exactly one of file_b or person_id")
    limit = settings.max_upload_bytes
    data_a = await read_upload(file_a, limit, "file_a")
    if file_b is not None:
        data_b = await read_upload(file_b, limit, "file_b")
        result = await inference.run(recognition.verify_photos, data_a, data_b, threshold)
    else:
        result = await inference.run(recognition.verify_person, data_a, person_id, threshold)
    return convert.verification(result)


@router.post(
    "/detect",
    response_model=schemas.DetectResponse,
    responses=ERRORS,
    summary="Find faces: boxes, landmarks, scores and quality",
)
async def detect(
    recognition: RecognitionDep,
    settings: SettingsDep,
    inference: InferenceDep,
    file: PhotoFile,
    max_faces: MaxFaces = None,
) -> schemas.DetectResponse:
    result = await _on_photo(inference, settings, file, max_faces, recognition.detect)
    return schemas.DetectResponse(
        image=convert.image_size(result.image),
        faces=[convert.geometry(d, q) for d, q in result.faces],
    )


@router.post(
    "/embeddings",
    response_model=schemas.EmbeddingsResponse,
    responses=ERRORS,
    summary="Raw L2-normalised embeddings of the faces in a photo",
)
async def embeddings(
    recognition: RecognitionDep,
    settings: SettingsDep,
    inference: InferenceDep,
    file: PhotoFile,
    max_faces: MaxFaces = None,
) -> schemas.EmbeddingsResponse:
    result = await _on_photo(inference, settings, file, max_faces, recognition.embed)
    return schemas.EmbeddingsResponse(
        image=convert.image_size(result.image),
        model_id=recognition.model_id,
        dim=recognition.dim,
        faces=[convert.embedded_face(f) for f in result.faces],
    )


async def _on_photo(
    inference: Inference,
    settings: Settings,
    file: UploadFile,
    max_faces: int | None,
    work: Callable[[bytes, int], T],
) -> T:
    """Read the upload within its limit, then run `work` on it on an inference lane."""
    data = await read_upload(file, settings.max_upload_bytes, "file")
    return await inference.run(work, data, max_faces or settings.max_faces)

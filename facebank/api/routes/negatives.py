"""A person's "not this person" labels: mark a face (from a photo or an unknown face),
list, download the kept crop, delete. Every search then leaves that person out for the
face and its near-duplicates (services/negative_search.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import FileResponse
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from facebank.api import schemas
from facebank.api.deps import InferenceDep, NegativesDep, SettingsDep, read_upload
from facebank.api.negative_schemas import NegativeDeleted, NegativeFromUnknown, NegativeOut
from facebank.api.routes.people import BOX_HELP, _selection
from facebank.api.security import Enroller, Reader
from facebank.errors import ValidationFailedError
from facebank.services.photos import FaceChoice, FaceSelection, Photo
from facebank.store.negatives import NegativeRecord
from facebank.store.validation import refusal

router = APIRouter(prefix="/api/v1/people", tags=["negatives"])

ERRORS = schemas.error_responses(400, 404, 409, 413, 422)
FROM_UNKNOWN = {
    "type": "object",
    "required": ["unknown_face_id"],
    "properties": {"unknown_face_id": {"type": "integer", "minimum": 1}},
    "additionalProperties": False,
}
ADD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": FROM_UNKNOWN},
            "application/x-www-form-urlencoded": {"schema": FROM_UNKNOWN},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "face_choice": {"type": "string", "enum": ["auto", "largest"]},
                        "box": {"type": "string", "description": BOX_HELP},
                        "unknown_face_id": {"type": "integer", "minimum": 1},
                    },
                    "description": "a photo (`file`), or `unknown_face_id`: not both",
                }
            },
        },
    }
}


def negative_out(record: NegativeRecord) -> NegativeOut:
    url = f"/api/v1/people/{record.person_id}/negatives/{record.id}/image"
    return NegativeOut.model_validate({**vars(record), "image_url": url})


@router.post(
    "/{person_id}/negatives",
    status_code=status.HTTP_201_CREATED,
    response_model=NegativeOut,
    responses=ERRORS,
    openapi_extra=ADD_BODY,
    summary="Mark a face as not this person: it and its near-duplicates stop matching them",
)
async def add_negative(
    person_id: int,
    request: Request,
    actor: Enroller,
    negatives: NegativesDep,
    settings: SettingsDep,
    inference: InferenceDep,
) -> NegativeOut:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        async with request.form(max_files=1, max_fields=10) as form:
            unknown_id, photo, choice = await _from_form(form, settings.max_upload_bytes)
    elif content_type.startswith("application/json"):
        unknown_id, photo, choice = _from_json(await request.body()), None, FaceChoice.AUTO
    else:
        raise ValidationFailedError("send multipart/form-data with a file, or unknown_face_id")
    if photo is not None:
        record = await inference.run(negatives.add_from_photo, actor, person_id, photo, choice)
    else:
        assert unknown_id is not None
        record = await inference.run(negatives.add_from_unknown, actor, person_id, unknown_id)
    return negative_out(record)


@router.get("/{person_id}/negatives", response_model=list[NegativeOut], responses=ERRORS)
def list_negatives(person_id: int, _: Reader, negatives: NegativesDep) -> list[NegativeOut]:
    return [negative_out(r) for r in negatives.list(person_id)]


@router.get(
    "/{person_id}/negatives/{negative_id}/image",
    response_class=FileResponse,
    responses={
        **schemas.error_responses(404),
        200: {"content": {"image/*": {}}, "description": "the crop kept around the face"},
    },
    summary="Download the crop a negative label keeps",
)
def negative_image(
    person_id: int, negative_id: int, _: Reader, negatives: NegativesDep
) -> FileResponse:
    image = negatives.image(person_id, negative_id)
    return FileResponse(image.path, media_type=f"image/{image.media_type}")


@router.delete(
    "/{person_id}/negatives/{negative_id}", response_model=NegativeDeleted, responses=ERRORS
)
def delete_negative(
    person_id: int, negative_id: int, actor: Enroller, negatives: NegativesDep
) -> NegativeDeleted:
    removed = negatives.delete(actor, person_id, negative_id)
    return NegativeDeleted(deleted=removed.id, person_id=removed.person_id)


async def _from_form(
    form: FormData, max_bytes: int
) -> tuple[int | None, Photo | None, FaceSelection]:
    upload = form.get("file")
    raw_unknown = form.get("unknown_face_id")
    if upload is not None and raw_unknown not in (None, ""):
        raise ValidationFailedError("send a file or unknown_face_id, not both")
    if upload is None:
        if raw_unknown in (None, ""):
            raise ValidationFailedError("send a photo as `file`, or unknown_face_id")
        return _unknown_id(raw_unknown), None, FaceChoice.AUTO
    if not isinstance(upload, StarletteUpload):
        raise ValidationFailedError("file must be a file")
    named = form.get("face_choice")
    if named not in (None, "") and named not in {c.value for c in FaceChoice}:
        raise ValidationFailedError("face_choice must be 'auto' or 'largest'")
    box = form.get("box")
    if box is not None and not isinstance(box, str):
        raise ValidationFailedError("box must be text: x1,y1,x2,y2")
    choice = _selection(FaceChoice(named) if named else None, box or None, 1)
    photo = Photo(await read_upload(upload, max_bytes, "file"), upload.filename)
    return None, photo, choice


def _unknown_id(raw: object) -> int:
    try:
        return NegativeFromUnknown.model_validate({"unknown_face_id": raw}).unknown_face_id
    except ValidationError as exc:
        raise refusal("unknown_face_id must be a positive integer", exc) from None


def _from_json(raw: bytes) -> int:
    try:
        return NegativeFromUnknown.model_validate_json(raw).unknown_face_id
    except ValidationError as exc:
        raise refusal("the body is not valid", exc) from None

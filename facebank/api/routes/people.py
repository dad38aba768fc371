"""People: create (with photos, atomically), search, read, update, delete, their faces."""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile, status
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from facebank.api import convert, schemas
from facebank.api.deps import GalleryDep, InferenceDep, SettingsDep, read_upload
from facebank.api.security import Enroller, Reader
from facebank.errors import ValidationFailedError
from facebank.services.photos import FaceAt, FaceChoice, FaceSelection, Photo
from facebank.store.limits import ADDRESS_MAX, AGE_MAX, EXTERNAL_ID_MAX, NAME_MAX
from facebank.store.people import PersonFilter, PersonOrder, SortKey
from facebank.store.validation import refusal

router = APIRouter(prefix="/api/v1/people", tags=["people"])

ERRORS = schemas.error_responses(400, 404, 409, 413, 422)

ALLOW_DUPLICATE_HELP = (
    "true enrolls a face even when it matches another person above the duplicate "
    "threshold (otherwise 409 duplicate_face)"
)
BOX_HELP = (
    "x1,y1,x2,y2 of the face to enroll, as /recognize or /detect answered it; "
    "for one photo of several faces (instead of face_choice)"
)

CREATE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/PersonCreate"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "age": {"type": "integer"},
                        "gender": {"type": "string"},
                        "address": {"type": "string"},
                        "external_id": {"type": "string"},
                        "metadata": {"type": "string", "description": "a JSON object"},
                        "face_choice": {"type": "string", "enum": ["auto", "largest"]},
                        "box": {"type": "string", "description": BOX_HELP},
                        "allow_duplicate": {
                            "type": "boolean",
                            "default": False,
                            "description": ALLOW_DUPLICATE_HELP,
                        },
                        "photos": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            },
        },
    }
}


MAX_PAGE_SIZE = 200
# "name" sorts ascending, "-name" descending.
SORT_PATTERN = f"^-?({'|'.join(k.value for k in SortKey)})$"

# Read by the route itself (JSON or a multipart form), so app.openapi lists it by hand.
SELF_PARSED_MODELS = [schemas.PersonCreate]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.PersonWithFaces,
    responses=ERRORS,
    openapi_extra=CREATE_BODY,
    summary="Create a person, optionally with face photos (all or nothing)",
)
async def create_person(
    request: Request,
    actor: Enroller,
    gallery: GalleryDep,
    settings: SettingsDep,
    inference: InferenceDep,
) -> schemas.PersonWithFaces:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        limit = settings.max_photos_per_request
        async with request.form(max_files=limit, max_fields=50) as form:
            person, choice, photos = await _person_from_form(form, settings.max_upload_bytes)
            allow_duplicate = _flag(form, "allow_duplicate")
    elif content_type.startswith("application/json"):
        person, choice, photos = _person_from_json(await request.body()), FaceChoice.AUTO, []
        allow_duplicate = False  # no photos, nothing to check
    else:
        raise ValidationFailedError(
            "send application/json, or multipart/form-data to include photos"
        )
    created, faces = await inference.run(
        gallery.create_person, actor, person, photos, choice, allow_duplicate
    )
    return convert.person_with_faces(created, faces)


@router.get("", response_model=schemas.PeoplePage, responses=ERRORS, summary="Search people")
def search_people(
    _: Reader,
    gallery: GalleryDep,
    q: Annotated[
        str | None, Query(max_length=NAME_MAX, description="name contains (any case)")
    ] = None,
    name: Annotated[str | None, Query(max_length=NAME_MAX, description="exact name")] = None,
    age_min: Annotated[int | None, Query(ge=0, le=AGE_MAX)] = None,
    age_max: Annotated[int | None, Query(ge=0, le=AGE_MAX)] = None,
    address: Annotated[
        str | None, Query(max_length=ADDRESS_MAX, description="address contains")
    ] = None,
    external_id: Annotated[str | None, Query(max_length=EXTERNAL_ID_MAX)] = None,
    sort: Annotated[
        str,
        Query(
            pattern=SORT_PATTERN,
            description="order by this field; a leading '-' reverses it. Ties go by id; "
            "people without the value come last",
        ),
    ] = "id",
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> schemas.PeoplePage:
    filters = PersonFilter(
        q=q, name=name, age_min=age_min, age_max=age_max, address=address, external_id=external_id
    )
    order = PersonOrder(SortKey(sort.removeprefix("-")), descending=sort.startswith("-"))
    result = gallery.search_people(filters, (page - 1) * page_size, page_size, order)
    return schemas.PeoplePage(
        items=[schemas.PersonOut.model_validate(p) for p in result.items],
        total=result.total,
        page=page,
        page_size=page_size,
        pages=math.ceil(result.total / page_size),
    )


@router.get("/{person_id}", response_model=schemas.PersonOut, responses=ERRORS)
def get_person(person_id: int, _: Reader, gallery: GalleryDep) -> schemas.PersonOut:
    return schemas.PersonOut.model_validate(gallery.get_person(person_id))


@router.patch("/{person_id}", response_model=schemas.PersonOut, responses=ERRORS)
def update_person(
    person_id: int, changes: schemas.PersonUpdate, actor: Enroller, gallery: GalleryDep
) -> schemas.PersonOut:
    updated = gallery.update_person(actor, person_id, changes.model_dump(exclude_unset=True))
    return schemas.PersonOut.model_validate(updated)


@router.delete(
    "/{person_id}",
    response_model=schemas.Deleted,
    responses=ERRORS,
    summary="Delete a person with all their faces, embeddings and photos",
)
def delete_person(person_id: int, actor: Enroller, gallery: GalleryDep) -> schemas.Deleted:
    removed = gallery.delete_person(actor, person_id)
    return schemas.Deleted(deleted=person_id, faces_deleted=removed)


@router.post(
    "/{person_id}/faces",
    status_code=status.HTTP_201_CREATED,
    response_model=list[schemas.FaceOut],
    responses=ERRORS,
    summary="Enroll more face photos for a person (all or nothing)",
)
async def add_faces(
    person_id: int,
    actor: Enroller,
    gallery: GalleryDep,
    settings: SettingsDep,
    inference: InferenceDep,
    photos: Annotated[list[UploadFile], File(description="one or more face photos")],
    face_choice: Annotated[FaceChoice | None, Form()] = None,
    box: Annotated[str | None, Form(description=BOX_HELP)] = None,
    allow_duplicate: Annotated[bool, Form(description=ALLOW_DUPLICATE_HELP)] = False,
) -> list[schemas.FaceOut]:
    if len(photos) > settings.max_photos_per_request:
        raise ValidationFailedError(f"at most {settings.max_photos_per_request} photos per request")
    choice = _selection(face_choice, box, len(photos))
    limit = settings.max_upload_bytes
    data = [
        Photo(await read_upload(p, limit, f"photos[{i}]"), p.filename) for i, p in enumerate(photos)
    ]
    faces = await inference.run(gallery.add_faces, actor, person_id, data, choice, allow_duplicate)
    return [convert.face_out(f) for f in faces]


@router.get("/{person_id}/faces", response_model=list[schemas.FaceOut], responses=ERRORS)
def list_faces(person_id: int, _: Reader, gallery: GalleryDep) -> list[schemas.FaceOut]:
    return [convert.face_out(f) for f in gallery.list_faces(person_id)]


def _person_from_json(raw: bytes) -> schemas.PersonCreate:
    try:  # bad fields raise ValidationFailedError already; this catches malformed JSON
        return schemas.PersonCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise refusal("the person is not valid", exc) from None


async def _person_from_form(
    form: FormData, max_bytes: int
) -> tuple[schemas.PersonCreate, FaceSelection, list[Photo]]:
    skip = {"photos", "allow_duplicate"}  # the flag is read by the route
    text = {k: v for k, v in form.multi_items() if isinstance(v, str) and k not in skip}
    named = text.pop("face_choice", None)
    if named is not None and named not in {c.value for c in FaceChoice}:
        raise ValidationFailedError("face_choice must be 'auto' or 'largest'")
    box = text.pop("box", None)
    fields: dict[str, Any] = {k: v for k, v in text.items() if v != ""}
    if "metadata" in fields:
        fields["metadata"] = _json_object(fields["metadata"])
    person = schemas.PersonCreate.model_validate(fields)  # bad fields: ValidationFailedError
    uploads = [v for k, v in form.multi_items() if k == "photos"]
    files = [u for u in uploads if isinstance(u, StarletteUpload)]
    if len(files) != len(uploads):
        raise ValidationFailedError("photos must be files")
    photos = [
        Photo(await read_upload(u, max_bytes, f"photos[{i}]"), u.filename)
        for i, u in enumerate(files)
    ]
    choice = _selection(FaceChoice(named) if named else None, box, len(photos))
    return person, choice, photos


def _flag(form: FormData, name: str) -> bool:
    raw = form.get(name)
    if raw is None or raw == "":
        return False
    if isinstance(raw, str) and raw.lower() in {"true", "1"}:
        return True
    if isinstance(raw, str) and raw.lower() in {"false", "0"}:
        return False
    raise ValidationFailedError(f"{name} must be true or false")


def _selection(named: FaceChoice | None, box: str | None, photos: int) -> FaceSelection:
    """The face to take from each photo: a named rule, or the one face at `box`."""
    if box is None:
        return named or FaceChoice.AUTO
    if named is not None:
        raise ValidationFailedError("send face_choice or box, not both")
    if photos != 1:
        raise ValidationFailedError("box points at a face in one photo: send exactly one")
    return FaceAt(_box(box))


def _box(raw: str) -> tuple[float, float, float, float]:
    try:
        values = [float(v) for v in raw.split(",")]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValidationFailedError("box must be four numbers: x1,y1,x2,y2")
    x1, y1, x2, y2 = values
    if x2 <= x1 or y2 <= y1:
        raise ValidationFailedError("box must have x2 > x1 and y2 > y1")
    return x1, y1, x2, y2


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ValidationFailedError("metadata must be a JSON object") from None
    if not isinstance(value, dict):
        raise ValidationFailedError("metadata must be a JSON object")
    return value

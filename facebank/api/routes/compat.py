"""The replaced system's endpoints, under /compat: a client of the old app changes only its
base URL. A thin translation over the same use cases as v1 (so every write is audited the
same way); names and shapes are in facebank.api.compat_schemas, the mapping to v1 in the
README ("Compatibility with the replaced system")."""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile

from facebank.api import compat_schemas as seed
from facebank.api import schemas
from facebank.api.answers import offset
from facebank.api.convert import face_image_url
from facebank.api.deps import (
    AccountsDep,
    GalleryDep,
    IndexDep,
    InferenceDep,
    RecognitionDep,
    SettingsDep,
    read_upload,
)
from facebank.api.routes.auth import _open as registration_open
from facebank.api.routes.people import ALLOW_DUPLICATE_HELP
from facebank.api.security import (
    COMPAT_PREFIX,
    Enroller,
    IndexAdmin,
    Reader,
    Recognizer,
)
from facebank.errors import NotFoundError, ValidationFailedError
from facebank.services.gallery import GalleryService
from facebank.services.photos import FaceChoice, Photo
from facebank.services.recognition import Candidate, RecognizedFace
from facebank.store.people import PersonFilter, PersonRecord

router = APIRouter(prefix=COMPAT_PREFIX, tags=["compat"])

ERRORS = schemas.error_responses(400, 404, 409, 413, 422)
AUTH_ERRORS = schemas.error_responses(400, 401, 403, 409, 422, 429)
PhotoFile = Annotated[UploadFile, File(description="a face photo")]
ClassId = Annotated[seed.ClassIdPath, Path()]


@router.post("/register", response_model=seed.Registered, responses=AUTH_ERRORS)
def register(
    body: seed.Credentials,
    accounts: AccountsDep,
    _: Annotated[None, Depends(registration_open)],
) -> seed.Registered:
    user = accounts.register(body.username, body.passwrd)
    return seed.Registered(message="registered", id=user.id, username=user.username, role=user.role)


@router.post("/login", response_model=seed.LoggedIn, responses=AUTH_ERRORS)
def login(request: Request, body: seed.Credentials, accounts: AccountsDep) -> seed.LoggedIn:
    address = request.client.host if request.client else None
    token = accounts.login(body.username, body.passwrd, address).token
    return seed.LoggedIn(
        message="logged in",
        token=token.token,
        username=body.username,
        access_token=token.token,
        expires_in=token.expires_in_s,
        expires_at=token.expires_at,
    )


class Recognize:
    """What both seed queries do: the largest face of the uploaded photo, recognised."""

    def __init__(
        self, recognition: RecognitionDep, settings: SettingsDep, inference: InferenceDep
    ) -> None:
        self._recognition = recognition
        self._settings = settings
        self._inference = inference

    async def largest_face(self, file: UploadFile, top_k: int) -> RecognizedFace | None:
        data = await read_upload(file, self._settings.max_upload_bytes, "file")
        result = await self._inference.run(self._recognition.recognize, data, top_k, None, 1)
        return result.faces[0] if result.faces else None


RecognizeDep = Annotated[Recognize, Depends()]


@router.post(
    "/query",
    response_model=seed.QueryAnswer,
    response_model_exclude_none=True,
    responses=ERRORS,
    summary="Best match of the largest face, or {} when nobody matches",
)
async def query(_: Recognizer, recognize: RecognizeDep, file: PhotoFile) -> seed.QueryAnswer:
    face = await recognize.largest_face(file, 1)
    if face is None or face.match is None:
        return seed.QueryAnswer()
    return seed.QueryAnswer.model_validate(_hit(face.match).model_dump())


@router.post("/query_top5", response_model=seed.Top5Answer, responses=ERRORS)
async def query_top5(_: Recognizer, recognize: RecognizeDep, file: PhotoFile) -> seed.Top5Answer:
    started = time.monotonic()
    face = await recognize.largest_face(file, seed.TOP_K)
    candidates = face.candidates if face else []
    return seed.Top5Answer(
        results=[_hit(c) for c in candidates], total_time=round(time.monotonic() - started, 3)
    )


@router.post(
    "/add_embedding",
    response_model=seed.Enrolled,
    responses=ERRORS,
    summary="Enroll a photo for class_id, creating the person the first time",
)
async def add_embedding(
    actor: Enroller,
    gallery: GalleryDep,
    settings: SettingsDep,
    inference: InferenceDep,
    file: PhotoFile,
    form: seed.SeedPersonForm,
    allow_duplicate: Annotated[bool, Form(description=ALLOW_DUPLICATE_HELP)] = False,
) -> seed.Enrolled:
    photo = Photo(await read_upload(file, settings.max_upload_bytes, "file"), file.filename)
    known = _find(gallery, form.class_id)
    if known is not None:  # as the seed: a known class only gains the photo
        faces = await inference.run(
            gallery.add_faces, actor, known.id, [photo], FaceChoice.AUTO, allow_duplicate
        )
        person = gallery.get_person(known.id)
    else:
        new = form.person()  # refuses bad fields before any model work
        person, faces = await inference.run(
            gallery.create_person, actor, new, [photo], FaceChoice.AUTO, allow_duplicate
        )
    return seed.Enrolled(
        message=f"enrolled image_id={faces[0].id} for class_id={form.class_id}",
        image_id=faces[0].id,
        image_path=face_image_url(faces[0].id),
        class_id=form.class_id,
        nguoi=seed.nguoi(person),
    )


@router.put(
    "/edit_embedding",
    response_model=seed.Edited,
    responses=ERRORS,
    summary="Change a person's fields; the person is named by class_id",
)
def edit_embedding(actor: Enroller, gallery: GalleryDep, form: seed.SeedPersonForm) -> seed.Edited:
    person = _person(gallery, form.class_id)
    changes = form.changes()
    if not changes:
        raise ValidationFailedError("send at least one of ten, tuoi, gioitinh, noio")
    updated = gallery.update_person(actor, person.id, changes)
    names = {v: k for k, v in seed.PERSON_FIELDS.items()}
    return seed.Edited(
        message=f"updated class_id={form.class_id}",
        class_id=updated.external_id,
        updated_fields=sorted(names[field] for field in changes),
        nguoi=seed.nguoi(updated),
    )


@router.delete("/delete_image/{image_id}", response_model=seed.ImageDeleted, responses=ERRORS)
def delete_image(image_id: int, actor: Enroller, gallery: GalleryDep) -> seed.ImageDeleted:
    removed = gallery.delete_face(actor, image_id)
    owner = gallery.get_person(removed.person_id)
    return seed.ImageDeleted(
        message=f"deleted image_id={image_id}", image_id=image_id, class_id=owner.external_id
    )


@router.delete("/delete_class/{class_id}", response_model=seed.ClassDeleted, responses=ERRORS)
def delete_class(class_id: ClassId, actor: Enroller, gallery: GalleryDep) -> seed.ClassDeleted:
    removed = gallery.delete_person(actor, _person(gallery, class_id).id)
    return seed.ClassDeleted(
        message=f"deleted class_id={class_id} and its {removed} images",
        class_id=class_id,
        images_deleted=removed,
    )


@router.get(
    "/list_nguoi",
    response_model=seed.NguoiList,
    responses=ERRORS,
    summary="People by name (query), age (tuoi), address (noio) or class_id, paginated",
)
def list_nguoi(
    _: Reader,
    gallery: GalleryDep,
    query: seed.NameQuery = None,
    tuoi: seed.AgeQuery = None,
    noio: seed.AddressQuery = None,
    class_id: seed.ClassIdQuery = None,
    page: seed.SeedPage = 1,
    page_size: seed.SeedPageSize = seed.SEED_PAGE_SIZE,
) -> seed.NguoiList:
    filters = PersonFilter(
        q=query or None, age_min=tuoi, age_max=tuoi, address=noio or None, external_id=class_id
    )
    found = gallery.search_people(filters, offset(page, page_size), page_size)
    people = [seed.nguoi(p) for p in found.items]
    return seed.NguoiList(results=seed.NguoiPage(nguoi_list=people, total=found.total))


@router.get(
    "/search_embeddings",
    response_model=seed.EmbeddingsPage,
    responses=ERRORS,
    summary="The images (faces) of a class_id, paginated",
)
def search_embeddings(
    _: Reader,
    gallery: GalleryDep,
    class_id: seed.ClassIdQuery = None,
    query: seed.ClassIdQuery = None,  # the seed's own name for class_id here
    page: seed.SeedPage = 1,
    page_size: seed.SeedPageSize = seed.SEED_PAGE_SIZE,
) -> seed.EmbeddingsPage:
    wanted = class_id or query
    if wanted is None:
        raise ValidationFailedError("send class_id", field="class_id")
    person = _person(gallery, wanted)
    images = [seed.image(face, person) for face in gallery.list_faces(person.id)]
    start = offset(page, page_size)
    return seed.EmbeddingsPage(
        total=len(images),
        total_pages=math.ceil(len(images) / page_size),
        page=page,
        page_size=page_size,
        results=images[start : start + page_size],
    )


@router.get("/get_image_ids_by_class/{class_id}", response_model=seed.ClassImages, responses=ERRORS)
def get_image_ids_by_class(class_id: ClassId, _: Reader, gallery: GalleryDep) -> seed.ClassImages:
    person = _person(gallery, class_id)
    ids = [str(face.id) for face in gallery.list_faces(person.id)]
    return seed.ClassImages(
        class_id=class_id, image_ids=ids, count=len(ids), nguoi=seed.nguoi(person)
    )


@router.get("/index_status", response_model=seed.IndexNumbers)
def index_status(_: Reader, index: IndexDep, gallery: GalleryDep) -> seed.IndexNumbers:
    return seed.index_numbers(index.status(), _people_total(gallery))


@router.post(
    "/reset_index",
    response_model=seed.IndexReset,
    summary="Rebuild the index from the database (the seed's reset emptied the gallery)",
)
def reset_index(actor: IndexAdmin, gallery: GalleryDep) -> seed.IndexReset:
    status = gallery.rebuild_index(actor)
    numbers = seed.index_numbers(status, _people_total(gallery))
    return seed.IndexReset(message="index rebuilt from the database", **numbers.model_dump())


@router.get("/vector_info", response_model=seed.VectorInfo)
def vector_info(_: Reader, index: IndexDep) -> seed.VectorInfo:
    status = index.status()
    return seed.VectorInfo(
        total=status.index_size,
        dim=status.dim,
        model_id=status.model_id,
        other_model_faces=status.other_model_faces,
    )


def _hit(candidate: Candidate) -> seed.Hit:
    return seed.Hit(
        image_id=candidate.face_id,
        image_path=face_image_url(candidate.face_id),
        class_id=candidate.person.external_id,
        score=round(candidate.score, 5),
        nguoi=seed.nguoi(candidate.person),
    )


def _find(gallery: GalleryService, class_id: str) -> PersonRecord | None:
    found = gallery.search_people(PersonFilter(external_id=class_id), 0, 1).items
    return found[0] if found else None


def _person(gallery: GalleryService, class_id: str) -> PersonRecord:
    person = _find(gallery, class_id)
    if person is None:
        raise NotFoundError(f"class_id {class_id!r} not found", class_id=class_id)
    return person


def _people_total(gallery: GalleryService) -> int:
    return gallery.search_people(PersonFilter(), 0, 0).total

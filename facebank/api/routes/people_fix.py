"""Fixing people: merge another person into this one, split faces off into a new person."""

from __future__ import annotations

from fastapi import APIRouter, status

from facebank.api import convert, schemas
from facebank.api.deps import PeopleFixDep
from facebank.api.people_fix_schemas import MergeRequest, SplitRequest
from facebank.api.security import Enroller

router = APIRouter(prefix="/api/v1/people", tags=["people"])

ERRORS = schemas.error_responses(400, 404, 409, 413, 422)


@router.post(
    "/{person_id}/merge",
    response_model=schemas.PersonOut,
    responses=ERRORS,
    summary="Merge another person into this one (faces and history move; they are deleted)",
)
def merge_person(
    person_id: int, body: MergeRequest, actor: Enroller, people_fix: PeopleFixDep
) -> schemas.PersonOut:
    merged = people_fix.merge(actor, person_id, body.from_person_id)
    return schemas.PersonOut.model_validate(merged)


@router.post(
    "/{person_id}/split",
    status_code=status.HTTP_201_CREATED,
    response_model=schemas.PersonWithFaces,
    responses=ERRORS,
    summary="Move selected faces of this person to a new person",
)
def split_person(
    person_id: int, body: SplitRequest, actor: Enroller, people_fix: PeopleFixDep
) -> schemas.PersonWithFaces:
    created, faces = people_fix.split(actor, person_id, body.face_ids, body.person)
    return convert.person_with_faces(created, faces)

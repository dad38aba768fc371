"""User administration (admins): list, create, read, change role/activation/password, delete."""

from __future__ import annotations

from fastapi import APIRouter, status

from facebank.api import auth_schemas, schemas
from facebank.api.answers import PageNumber, PageSize, offset, page_out
from facebank.api.deps import AccountsDep
from facebank.api.security import UserAdmin

router = APIRouter(prefix="/api/v1/users", tags=["users"])

ERRORS = schemas.error_responses(401, 403, 404, 409, 422)
# A body that cannot be parsed at all (not UTF-8, not a form) is a 400.
BODY_ERRORS = {**ERRORS, **schemas.error_responses(400)}


@router.get("", response_model=auth_schemas.UsersPage, responses=ERRORS, summary="List users")
def list_users(
    _: UserAdmin, accounts: AccountsDep, page: PageNumber = 1, page_size: PageSize = 50
) -> auth_schemas.UsersPage:
    result = accounts.list_users(offset(page, page_size), page_size)
    return page_out(auth_schemas.UsersPage, result, page, page_size)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=auth_schemas.UserOut,
    responses=BODY_ERRORS,
    summary="Create a user with a role",
)
def create_user(
    body: auth_schemas.UserCreate, actor: UserAdmin, accounts: AccountsDep
) -> auth_schemas.UserOut:
    user = accounts.create_user(actor, body.username, body.password, body.role)
    return auth_schemas.UserOut.model_validate(user)


@router.get("/{user_id}", response_model=auth_schemas.UserOut, responses=ERRORS)
def get_user(user_id: int, _: UserAdmin, accounts: AccountsDep) -> auth_schemas.UserOut:
    return auth_schemas.UserOut.model_validate(accounts.get_user(user_id))


@router.patch(
    "/{user_id}",
    response_model=auth_schemas.UserOut,
    responses=BODY_ERRORS,
    summary="Change role, activation or password (a new password ends the user's sessions)",
)
def update_user(
    user_id: int, body: auth_schemas.UserUpdate, actor: UserAdmin, accounts: AccountsDep
) -> auth_schemas.UserOut:
    user = accounts.update_user(
        actor, user_id, role=body.role, is_active=body.is_active, password=body.password
    )
    return auth_schemas.UserOut.model_validate(user)


@router.delete(
    "/{user_id}",
    response_model=auth_schemas.UserOut,
    responses=ERRORS,
    summary="Delete a user (never the last active admin)",
)
def delete_user(user_id: int, actor: UserAdmin, accounts: AccountsDep) -> auth_schemas.UserOut:
    return auth_schemas.UserOut.model_validate(accounts.delete_user(actor, user_id))

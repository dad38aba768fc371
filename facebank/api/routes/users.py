"""User administration (admins): list, create, read, change role/activation/password, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from facebank.api import auth_convert, auth_schemas, schemas
from facebank.api.deps import ServicesDep
from facebank.api.security import UserAdmin

router = APIRouter(prefix="/api/v1/users", tags=["users"])

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorResponse} for code in (401, 403, 404, 409, 422)
}


@router.get("", response_model=auth_schemas.UsersPage, responses=ERRORS, summary="List users")
def list_users(
    _: UserAdmin,
    services: ServicesDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> auth_schemas.UsersPage:
    result = services.auth.accounts.list_users((page - 1) * page_size, page_size)
    return auth_schemas.UsersPage(
        items=[auth_convert.user_out(u) for u in result.items],
        total=result.total,
        page=page,
        page_size=page_size,
        pages=auth_convert.pages(result.total, page_size),
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=auth_schemas.UserOut,
    responses=ERRORS,
    summary="Create a user with a role",
)
def create_user(
    body: auth_schemas.UserCreate, actor: UserAdmin, services: ServicesDep
) -> auth_schemas.UserOut:
    user = services.auth.accounts.create_user(actor, body.username, body.password, body.role)
    return auth_convert.user_out(user)


@router.get("/{user_id}", response_model=auth_schemas.UserOut, responses=ERRORS)
def get_user(user_id: int, _: UserAdmin, services: ServicesDep) -> auth_schemas.UserOut:
    return auth_convert.user_out(services.auth.accounts.get_user(user_id))


@router.patch(
    "/{user_id}",
    response_model=auth_schemas.UserOut,
    responses=ERRORS,
    summary="Change role, activation or password (a new password ends the user's sessions)",
)
def update_user(
    user_id: int, body: auth_schemas.UserUpdate, actor: UserAdmin, services: ServicesDep
) -> auth_schemas.UserOut:
    user = services.auth.accounts.update_user(
        actor, user_id, role=body.role, is_active=body.is_active, password=body.password
    )
    return auth_convert.user_out(user)


@router.delete(
    "/{user_id}",
    response_model=auth_schemas.UserOut,
    responses=ERRORS,
    summary="Delete a user (never the last active admin)",
)
def delete_user(user_id: int, actor: UserAdmin, services: ServicesDep) -> auth_schemas.UserOut:
    return auth_convert.user_out(services.auth.accounts.delete_user(actor, user_id))

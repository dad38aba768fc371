"""Sign-up, login (OAuth2 password form -> bearer token), who am I, change password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from facebank.api import auth_convert, auth_schemas, schemas
from facebank.api.deps import AccountsDep
from facebank.api.security import Account, AccountUser, optional_principal
from facebank.auth.principal import Principal, PrincipalKind
from facebank.auth.tokens import IssuedToken
from facebank.errors import AuthenticationError, PermissionDeniedError

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])

ERRORS = schemas.error_responses(401, 403, 409, 422, 429)
# A body that cannot be parsed at all (not UTF-8, not a form) is a 400.
BODY_ERRORS = {**ERRORS, **schemas.error_responses(400)}


def _open(
    accounts: AccountsDep, caller: Annotated[Principal | None, Depends(optional_principal)]
) -> None:
    """A dependency, so a closed registration answers 401/403 before the body is validated:
    to anonymous callers it is just another protected route."""
    if accounts.registration_open():
        return
    if caller is None:
        raise AuthenticationError("registration is closed; log in as an admin")
    raise PermissionDeniedError(
        "registration is closed: an admin creates accounts (POST /api/v1/users)"
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=auth_schemas.UserOut,
    responses=BODY_ERRORS,
    summary="Create an account (the first one becomes admin); open only while allowed",
)
def register(
    body: auth_schemas.RegisterIn, accounts: AccountsDep, _: Annotated[None, Depends(_open)]
) -> auth_schemas.UserOut:
    return auth_schemas.UserOut.model_validate(accounts.register(body.username, body.password))


@router.post(
    "/login",
    response_model=auth_schemas.TokenOut,
    responses=BODY_ERRORS,
    summary="Exchange user name and password (OAuth2 password form) for a bearer token",
)
def login(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    accounts: AccountsDep,
) -> auth_schemas.TokenOut:
    address = request.client.host if request.client else None
    result = accounts.login(form.username, form.password, address)
    return _token_out(result.token)


@router.get("/me", response_model=auth_schemas.MeOut, responses=ERRORS, summary="Who am I")
def me(principal: Account, accounts: AccountsDep) -> auth_schemas.MeOut:
    user = accounts.me(principal) if principal.kind is PrincipalKind.USER else None
    return auth_convert.me_out(principal, user)


@router.post(
    "/password",
    response_model=auth_schemas.TokenOut,
    responses=BODY_ERRORS,
    summary="Change my password; ends my other sessions and returns a fresh token",
)
def change_password(
    body: auth_schemas.PasswordChange, principal: AccountUser, accounts: AccountsDep
) -> auth_schemas.TokenOut:
    token = accounts.change_password(principal, body.current_password, body.new_password)
    return _token_out(token)


def _token_out(token: IssuedToken) -> auth_schemas.TokenOut:
    return auth_schemas.TokenOut(
        access_token=token.token, expires_in=token.expires_in_s, expires_at=token.expires_at
    )

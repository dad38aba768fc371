"""API keys for machines (admins): create (the key is shown once), list, read, revoke."""

from __future__ import annotations

from fastapi import APIRouter, status

from facebank.api import auth_convert, auth_schemas, schemas
from facebank.api.answers import PageNumber, PageSize, offset, page_out
from facebank.api.deps import ApiKeysDep
from facebank.api.security import KeyAdmin

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])

ERRORS = schemas.error_responses(401, 403, 404, 422)
# A body that cannot be parsed at all (not UTF-8, not a form) is a 400.
BODY_ERRORS = {**ERRORS, **schemas.error_responses(400)}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=auth_schemas.ApiKeyCreated,
    responses=BODY_ERRORS,
    summary="Create an API key with a role and optional expiry; the key is in this answer only",
)
def create_key(
    body: auth_schemas.ApiKeyCreate, actor: KeyAdmin, api_keys: ApiKeysDep
) -> auth_schemas.ApiKeyCreated:
    created = api_keys.create(actor, body.name, body.role, body.expires_at)
    return auth_convert.api_key_created(created.record, created.key)


@router.get("", response_model=auth_schemas.ApiKeysPage, responses=ERRORS, summary="List API keys")
def list_keys(
    _: KeyAdmin,
    api_keys: ApiKeysDep,
    include_revoked: bool = False,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> auth_schemas.ApiKeysPage:
    result = api_keys.list(offset(page, page_size), page_size, include_revoked)
    return page_out(auth_schemas.ApiKeysPage, result, page, page_size)


@router.get("/{key_id}", response_model=auth_schemas.ApiKeyOut, responses=ERRORS)
def get_key(key_id: int, _: KeyAdmin, api_keys: ApiKeysDep) -> auth_schemas.ApiKeyOut:
    return auth_schemas.ApiKeyOut.model_validate(api_keys.get(key_id))


@router.delete(
    "/{key_id}",
    response_model=auth_schemas.ApiKeyOut,
    responses=ERRORS,
    summary="Revoke an API key (it stops working at once on this worker, within seconds on others)",
)
def revoke_key(key_id: int, actor: KeyAdmin, api_keys: ApiKeysDep) -> auth_schemas.ApiKeyOut:
    return auth_schemas.ApiKeyOut.model_validate(api_keys.revoke(actor, key_id))

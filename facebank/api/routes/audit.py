"""The audit log (admins): who created, changed or deleted what, newest first, paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from facebank.api import auth_schemas, schemas
from facebank.api.answers import PageNumber, PageSize, offset, page_out
from facebank.api.deps import AuditDep
from facebank.api.security import AuditReader
from facebank.store.audit import AuditFilter
from facebank.store.limits import (
    ACTION_MAX,
    ACTOR_KIND_MAX,
    ACTOR_NAME_MAX,
    TARGET_ID_MAX,
    TARGET_KIND_MAX,
)
from facebank.store.validation import MAX_ID

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

ERRORS = schemas.error_responses(401, 403, 422)


@router.get("", response_model=auth_schemas.AuditPage, responses=ERRORS, summary="Audit log")
def audit_log(
    _: AuditReader,
    audit: AuditDep,
    target_kind: Annotated[
        str | None, Query(max_length=TARGET_KIND_MAX, examples=["person"])
    ] = None,
    target_id: Annotated[str | None, Query(max_length=TARGET_ID_MAX)] = None,
    actor_kind: Annotated[str | None, Query(max_length=ACTOR_KIND_MAX, examples=["user"])] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    actor_name: Annotated[
        str | None, Query(max_length=ACTOR_NAME_MAX, description="the user or key name")
    ] = None,
    action: Annotated[str | None, Query(max_length=ACTION_MAX, examples=["delete"])] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="entries at or after this time (with a zone)")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="entries before this time (with a zone)")
    ] = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> auth_schemas.AuditPage:
    criteria = AuditFilter(
        target_kind=target_kind,
        target_id=target_id,
        actor_kind=actor_kind,
        actor_id=actor_id,
        actor_name=actor_name,
        action=action,
        since=since,
        until=until,
    )
    result = audit.page(criteria, offset(page, page_size), page_size)
    return page_out(auth_schemas.AuditPage, result, page, page_size)

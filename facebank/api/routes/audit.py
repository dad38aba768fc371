"""The audit log (admins): who created, changed or deleted what, newest first, paged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from facebank.api import auth_convert, auth_schemas, schemas
from facebank.api.deps import ServicesDep
from facebank.api.security import AuditReader
from facebank.store.audit import AuditFilter

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": schemas.ErrorResponse} for code in (401, 403, 422)
}


@router.get("", response_model=auth_schemas.AuditPage, responses=ERRORS, summary="Audit log")
def audit_log(
    _: AuditReader,
    services: ServicesDep,
    target_kind: Annotated[str | None, Query(max_length=32, examples=["person"])] = None,
    target_id: Annotated[str | None, Query(max_length=128)] = None,
    actor_kind: Annotated[str | None, Query(max_length=16, examples=["user"])] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    action: Annotated[str | None, Query(max_length=32, examples=["delete"])] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> auth_schemas.AuditPage:
    criteria = AuditFilter(
        target_kind=target_kind,
        target_id=target_id,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action=action,
    )
    result = services.auth.audit.page(criteria, (page - 1) * page_size, page_size)
    return auth_schemas.AuditPage(
        items=[auth_convert.audit_out(e) for e in result.items],
        total=result.total,
        page=page,
        page_size=page_size,
        pages=auth_convert.pages(result.total, page_size),
    )

"""Account, key and audit records -> API shapes."""

from __future__ import annotations

import math

from facebank.api import auth_schemas as s
from facebank.auth.principal import Principal
from facebank.auth.roles import parse_role
from facebank.store.accounts import ApiKeyRecord, UserRecord
from facebank.store.audit import AuditRecord


def user_out(user: UserRecord) -> s.UserOut:
    return s.UserOut(
        id=user.id,
        username=user.username,
        role=parse_role(user.role),
        is_active=user.is_active,
        created_at=user.created_at,
        updated_at=user.updated_at,
        last_login_at=user.last_login_at,
    )


def me_out(principal: Principal, user: UserRecord | None) -> s.MeOut:
    return s.MeOut(
        kind=principal.kind.value,
        id=principal.id,
        name=principal.name,
        role=principal.role,
        permissions=sorted(principal.permissions),
        user=None if user is None else user_out(user),
    )


def api_key_out(key: ApiKeyRecord) -> s.ApiKeyOut:
    return s.ApiKeyOut(**_key_fields(key))


def api_key_created(key: ApiKeyRecord, plain: str) -> s.ApiKeyCreated:
    return s.ApiKeyCreated(**_key_fields(key), key=plain)


def _key_fields(key: ApiKeyRecord) -> dict[str, object]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "role": parse_role(key.role),
        "created_by": key.created_by,
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "last_used_at": key.last_used_at,
        "revoked_at": key.revoked_at,
    }


def audit_out(entry: AuditRecord) -> s.AuditOut:
    return s.AuditOut(
        id=entry.id,
        at=entry.at,
        actor_kind=entry.actor_kind,
        actor_id=entry.actor_id,
        actor_name=entry.actor_name,
        action=entry.action,
        target_kind=entry.target_kind,
        target_id=entry.target_id,
        details=entry.details,
    )


def pages(total: int, page_size: int) -> int:
    return math.ceil(total / page_size)

"""Plain values for users, API keys and the audit log crossing the store boundary.

Roles are plain strings here: the store keeps them, the auth package gives them meaning.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from facebank.errors import ValidationFailedError
from facebank.store.tables import ApiKey, AuditEntry, User


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    role: str
    is_active: bool
    token_version: int
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None
    # Present for verification only; never serialised by the API.
    password_hash: str = field(repr=False)


@dataclass(frozen=True)
class UserChanges:
    """What an admin (or the user, for the password) changes; None leaves a field alone."""

    role: str | None = None
    is_active: bool | None = None
    password_hash: str | None = None


@dataclass(frozen=True)
class ApiKeyRecord:
    id: int
    name: str
    prefix: str
    role: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class NewApiKey:
    name: str
    prefix: str
    key_hash: str
    role: str
    created_by: int | None
    expires_at: datetime | None


@dataclass(frozen=True)
class NewAuditEntry:
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    target_kind: str
    target_id: str | None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            json.dumps(self.details, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationFailedError(f"audit details are not JSON: {exc}") from exc


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    target_kind: str
    target_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AuditFilter:
    target_kind: str | None = None
    target_id: str | None = None
    actor_kind: str | None = None
    actor_id: int | None = None
    action: str | None = None


def user_record(row: User) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        role=row.role,
        is_active=bool(row.is_active),
        token_version=row.token_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_login_at=row.last_login_at,
        password_hash=row.password_hash,
    )


def api_key_record(row: ApiKey) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        role=row.role,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def audit_record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        action=row.action,
        target_kind=row.target_kind,
        target_id=row.target_id,
        details=copy.deepcopy(row.details),
    )

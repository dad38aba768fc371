"""API keys for machines: created by an admin with a role and optional expiry, shown once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from facebank.auth.api_keys import KeyHasher, display_prefix, generate_key
from facebank.auth.clock import Clock
from facebank.auth.principal import Principal, PrincipalKind
from facebank.auth.roles import Role
from facebank.errors import ValidationFailedError
from facebank.services.audit import Action, Target, audit_entry
from facebank.store.accounts import ApiKeyRecord, ApiKeysRepository, NewApiKey
from facebank.store.limits import API_KEY_NAME_MAX
from facebank.store.paging import Page


@dataclass(frozen=True)
class CreatedKey:
    record: ApiKeyRecord
    key: str  # the only time the plain key exists outside the caller's hands


class ApiKeyService:
    def __init__(
        self,
        repo: ApiKeysRepository,
        hasher: KeyHasher,
        clock: Clock,
        on_change: Callable[[], None],
    ) -> None:
        self._repo = repo
        self._hasher = hasher
        self._clock = clock
        self._on_change = on_change

    def create(
        self, actor: Principal, name: str, role: Role, expires_at: datetime | None = None
    ) -> CreatedKey:
        name = name.strip()
        if not 1 <= len(name) <= API_KEY_NAME_MAX:
            raise ValidationFailedError(
                f"name must be 1-{API_KEY_NAME_MAX} characters", field="name"
            )
        if expires_at is not None:
            if expires_at.tzinfo is None:
                raise ValidationFailedError(
                    "expires_at needs a time zone (e.g. 2030-01-01T00:00:00Z)", field="expires_at"
                )
            if expires_at <= self._clock():
                raise ValidationFailedError("expires_at is in the past", field="expires_at")
        key = generate_key()
        created_by = actor.id if actor.kind is PrincipalKind.USER else None
        record = self._repo.create(
            NewApiKey(
                name=name,
                prefix=display_prefix(key),
                key_hash=self._hasher.digest(key),
                role=role.value,
                created_by=created_by,
                expires_at=expires_at,
            ),
            lambda rec: audit_entry(
                actor, Action.CREATE, Target.API_KEY, rec.id, {"name": rec.name, "role": rec.role}
            ),
        )
        return CreatedKey(record, key)

    def get(self, key_id: int) -> ApiKeyRecord:
        return self._repo.get(key_id)

    def list(self, offset: int, limit: int, include_revoked: bool = False) -> Page[ApiKeyRecord]:
        return self._repo.page(offset, limit, include_revoked)

    def revoke(self, actor: Principal, key_id: int) -> ApiKeyRecord:
        revoked = self._repo.revoke(
            key_id,
            lambda rec: audit_entry(
                actor, Action.REVOKE, Target.API_KEY, rec.id, {"name": rec.name}
            ),
        )
        self._on_change()
        return revoked

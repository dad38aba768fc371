"""API keys: create, look up by keyed hash, list, revoke, and stamp their last use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from facebank.errors import NotFoundError
from facebank.store.account_records import ApiKeyRecord, NewApiKey, NewAuditEntry, api_key_record
from facebank.store.audit_repo import add_entry
from facebank.store.coltypes import utcnow
from facebank.store.records import Page
from facebank.store.tables import ApiKey
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id

AuditFor = Callable[[ApiKeyRecord], NewAuditEntry]


class ApiKeysRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def create(self, key: NewApiKey, audit: AuditFor) -> ApiKeyRecord:
        def work(session: Session) -> ApiKeyRecord:
            now = utcnow()
            row = ApiKey(
                name=key.name,
                prefix=key.prefix,
                key_hash=key.key_hash,
                role=key.role,
                created_by=key.created_by,
                created_at=now,
                expires_at=key.expires_at,
            )
            session.add(row)
            session.flush()
            record = api_key_record(row)
            add_entry(session, audit(record), now)
            return record

        return run_write(self._sessions, work)

    def find_by_hash(self, key_hash: str) -> ApiKeyRecord | None:
        def work(session: Session) -> ApiKeyRecord | None:
            row = session.scalars(select(ApiKey).where(ApiKey.key_hash == key_hash)).first()
            return None if row is None else api_key_record(row)

        return run_read(self._sessions, work)

    def get(self, key_id: int) -> ApiKeyRecord:
        return run_read(self._sessions, lambda session: api_key_record(_get(session, key_id)))

    def page(self, offset: int, limit: int, include_revoked: bool) -> Page[ApiKeyRecord]:
        conditions = [] if include_revoked else [ApiKey.revoked_at.is_(None)]

        def work(session: Session) -> Page[ApiKeyRecord]:
            total = session.scalar(select(func.count(ApiKey.id)).where(*conditions)) or 0
            rows = session.scalars(
                select(ApiKey).where(*conditions).order_by(ApiKey.id).offset(offset).limit(limit)
            )
            return Page([api_key_record(r) for r in rows], int(total), offset, limit)

        return run_read(self._sessions, work)

    def revoke(self, key_id: int, audit: AuditFor) -> ApiKeyRecord:
        """Idempotent: revoking a revoked key keeps the first revocation time."""

        def work(session: Session) -> ApiKeyRecord:
            row = _get(session, key_id, lock=True)
            if row.revoked_at is None:
                row.revoked_at = utcnow()
                session.flush()
                record = api_key_record(row)
                add_entry(session, audit(record), row.revoked_at)
                return record
            return api_key_record(row)

        return run_write(self._sessions, work)

    def touch(self, key_id: int, used_at: datetime) -> None:
        """Record use. Never moves the time backwards (workers race with each other)."""

        def work(session: Session) -> None:
            session.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < used_at))
                .values(last_used_at=used_at)
            )

        run_write(self._sessions, work)


def _get(session: Session, key_id: int, lock: bool = False) -> ApiKey:
    row = session.get(ApiKey, key_id, with_for_update=lock) if is_storable_id(key_id) else None
    if row is None:
        raise NotFoundError(f"API key {key_id} not found", key_id=key_id)
    return row

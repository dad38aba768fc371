"""Browser sessions (facebank.web): records and the repository. Only the hash of a
session's id is stored, so a copy of the database cannot sign anyone in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facebank.store.audit import AuditFor, audited
from facebank.store.coltypes import utcnow
from facebank.store.shapes import record_from
from facebank.store.tables import WebSession
from facebank.store.tx import SessionFactory, run_read, run_write


@dataclass(frozen=True)
class WebSessionRecord:
    id: int
    id_hash: str
    user_id: int
    token_version: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class NewWebSession:
    id_hash: str
    user_id: int
    token_version: int
    csrf_token: str
    expires_at: datetime


def web_session_record(row: WebSession) -> WebSessionRecord:
    return record_from(WebSessionRecord, row)


def _by_hash(session: Session, id_hash: str) -> WebSession | None:
    return session.scalars(select(WebSession).where(WebSession.id_hash == id_hash)).first()


class WebSessionsRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def create(self, new: NewWebSession, audit: AuditFor[WebSessionRecord]) -> WebSessionRecord:
        def work(session: Session) -> WebSessionRecord:
            now = utcnow()
            row = WebSession(
                id_hash=new.id_hash,
                user_id=new.user_id,
                token_version=new.token_version,
                csrf_token=new.csrf_token,
                expires_at=new.expires_at,
                created_at=now,
                last_seen_at=now,
            )
            session.add(row)
            session.flush()
            return audited(session, web_session_record(row), audit, now)

        return run_write(self._sessions, work)

    def find(self, id_hash: str) -> WebSessionRecord | None:
        def work(session: Session) -> WebSessionRecord | None:
            row = _by_hash(session, id_hash)
            return None if row is None else web_session_record(row)

        return run_read(self._sessions, work)

    def delete(self, id_hash: str, audit: AuditFor[WebSessionRecord]) -> WebSessionRecord | None:
        def work(session: Session) -> WebSessionRecord | None:
            row = _by_hash(session, id_hash)
            if row is None:
                return None
            record = web_session_record(row)
            session.delete(row)
            return audited(session, record, audit, utcnow())

        return run_write(self._sessions, work)

    def delete_expired(self, now: datetime) -> int:
        """Removes sessions past their expiry (not audited: nobody ended them, time did)."""

        def work(session: Session) -> int:
            result = session.execute(delete(WebSession).where(WebSession.expires_at <= now))
            return int(getattr(result, "rowcount", 0) or 0)

        return run_write(self._sessions, work)

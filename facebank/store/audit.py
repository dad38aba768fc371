"""The audit log: entries, filters, row mapping and the repository."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from facebank.errors import ValidationFailedError
from facebank.store.paging import Page
from facebank.store.tables import AuditEntry
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import MAX_ID

# --- records -------------------------------------------------------------------


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


# --- audit repo ---------------------------------------------------------------

# The audit log: append entries (alone or inside another repository's transaction), page.

ACTOR_NAME_MAX = 100
TARGET_ID_MAX = 128


def add_entry(session: Session, entry: NewAuditEntry, at: datetime) -> None:
    """Stage an entry in the caller's transaction, so the change and its record commit
    together or not at all."""
    session.add(
        AuditEntry(
            at=at,
            actor_kind=entry.actor_kind,
            actor_id=entry.actor_id,
            # Clipped, not refused: an audit entry must never make the audited change fail.
            actor_name=entry.actor_name[:ACTOR_NAME_MAX],
            action=entry.action,
            target_kind=entry.target_kind,
            target_id=None if entry.target_id is None else entry.target_id[:TARGET_ID_MAX],
            details=dict(entry.details),
        )
    )


class AuditRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def record(self, entries: Sequence[NewAuditEntry], at: datetime) -> None:
        """Append entries together in one transaction."""

        def work(session: Session) -> None:
            for entry in entries:
                add_entry(session, entry, at)

        if entries:
            run_write(self._sessions, work)

    def page(self, criteria: AuditFilter, offset: int, limit: int) -> Page[AuditRecord]:
        """Newest first (by id, which follows commit order closely enough and is stable)."""
        if not (0 <= offset <= MAX_ID and 0 <= limit <= MAX_ID):
            raise ValidationFailedError("offset and limit must be non-negative 64-bit integers")
        conditions = _conditions(criteria)

        def work(session: Session) -> Page[AuditRecord]:
            total = session.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0
            rows = session.scalars(
                select(AuditEntry)
                .where(*conditions)
                .order_by(AuditEntry.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return Page([audit_record(r) for r in rows], int(total), offset, limit)

        return run_read(self._sessions, work)


def _conditions(criteria: AuditFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.target_kind is not None:
        conditions.append(AuditEntry.target_kind == criteria.target_kind)
    if criteria.target_id is not None:
        conditions.append(AuditEntry.target_id == criteria.target_id)
    if criteria.actor_kind is not None:
        conditions.append(AuditEntry.actor_kind == criteria.actor_kind)
    if criteria.actor_id is not None:
        conditions.append(AuditEntry.actor_id == criteria.actor_id)
    if criteria.action is not None:
        conditions.append(AuditEntry.action == criteria.action)
    return conditions

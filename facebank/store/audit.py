"""The audit log: entries, filters, row mapping and the repository. Other repositories stage
entries in their own transactions (`add_entry`), so a change and its entry commit together."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import field_validator
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from facebank.errors import ValidationFailedError
from facebank.store.limits import (
    ACTOR_NAME_MAX,
    TARGET_ID_MAX,
)
from facebank.store.paging import Page
from facebank.store.queries import fetch_page
from facebank.store.shapes import AnswerRecord, record_from
from facebank.store.tables import AuditEntry
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import MAX_ID

T = TypeVar("T")

# --- records -----------------------------------------------------------------------------


class NewAuditEntry(AnswerRecord):
    """Who did what to which target; a stored entry adds its id and time (AuditRecord)."""

    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    target_kind: str
    target_id: str | None
    details: dict[str, Any]

    @field_validator("details")
    @classmethod
    def _json(cls, details: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(details, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValidationFailedError(f"audit details are not JSON: {exc}") from exc
        return details


class AuditRecord(NewAuditEntry):
    id: int
    at: datetime


@dataclass(frozen=True)
class AuditFilter:
    """Equality on the named columns; `since` (inclusive) and `until` (exclusive) bound `at`."""

    target_kind: str | None = None
    target_id: str | None = None
    actor_kind: str | None = None
    actor_id: int | None = None
    actor_name: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


# Builds a change's audit entry from its stored result (whose id exists only after the
# insert), inside the change's transaction.
AuditFor = Callable[[T], NewAuditEntry]
# The same for a change with many targets (a person and each of their faces).
AuditsFor = Callable[[T], Sequence[NewAuditEntry]]


# --- row mapping and repository ----------------------------------------------------------


def audit_record(row: AuditEntry) -> AuditRecord:
    return record_from(AuditRecord, row, details=copy.deepcopy(row.details))


def add_entry(session: Session, entry: NewAuditEntry, at: datetime) -> None:
    """Stage an entry in the caller's transaction, so the change and its record commit
    together or not at all."""
    values = entry.model_dump()
    # Clipped, not refused: an audit entry must never make the audited change fail.
    values["actor_name"] = entry.actor_name[:ACTOR_NAME_MAX]
    if entry.target_id is not None:
        values["target_id"] = entry.target_id[:TARGET_ID_MAX]
    session.add(AuditEntry(**values, at=at))


def audited(session: Session, result: T, audit: AuditFor[T], at: datetime) -> T:
    """Stage the audit entry of `result` in the caller's transaction; hand `result` on."""
    return audited_all(session, result, lambda done: [audit(done)], at)


def audited_all(session: Session, result: T, audit: AuditsFor[T], at: datetime) -> T:
    """Stage every audit entry of `result` in the caller's transaction; hand `result` on."""
    for entry in audit(result):
        add_entry(session, entry, at)
    return result


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
        query = select(AuditEntry).where(*_conditions(criteria)).order_by(AuditEntry.id.desc())
        return run_read(self._sessions, lambda s: fetch_page(s, query, offset, limit, audit_record))


_TIME_BOUNDS = ("since", "until")


def _conditions(criteria: AuditFilter) -> list[ColumnElement[bool]]:
    """One equality per set column criterion (those fields are named after the columns),
    plus the time window."""
    wanted = {name: value for name, value in asdict(criteria).items() if value is not None}
    conditions = [
        getattr(AuditEntry, name) == value
        for name, value in wanted.items()
        if name not in _TIME_BOUNDS
    ]
    if criteria.since is not None:
        conditions.append(AuditEntry.at >= criteria.since)
    if criteria.until is not None:
        conditions.append(AuditEntry.at < criteria.until)
    return conditions

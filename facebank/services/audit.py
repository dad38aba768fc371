"""The audit trail: who created, changed or deleted what, and when; paged reads for admins."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from facebank.auth.clock import Clock
from facebank.auth.principal import Principal
from facebank.store.audit import AuditFilter, AuditRecord, AuditRepository, NewAuditEntry
from facebank.store.paging import Page

log = logging.getLogger(__name__)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REGISTER = "register"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 - an action name
    REVOKE = "revoke"
    REBUILD = "rebuild"
    REEMBED = "reembed"
    RESTORE = "restore"
    START = "start"
    STOP = "stop"
    REPLAY = "replay"
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    EXPORT = "export"  # a read, audited: it hands out every photo and embedding
    CALIBRATE = "calibrate"  # a measured match threshold applied for every worker
    UNCALIBRATE = "uncalibrate"  # back to the configured threshold on every worker
    NAME = "name"  # an unknown cluster enrolled as a new person (issue 12)
    ADD = "add"  # an unknown cluster enrolled into an existing person
    DISMISS = "dismiss"  # an unknown cluster thrown away
    MERGE = "merge"  # one person folded into another (faces and history moved)
    SPLIT = "split"  # selected faces of a person moved to a new person


class Target(StrEnum):
    PERSON = "person"
    FACE = "face"
    USER = "user"
    API_KEY = "api_key"
    INDEX = "index"
    GALLERY = "gallery"
    SESSION = "session"
    WEB_SESSION = "web_session"
    IMPORT = "import"
    UNKNOWN_CLUSTER = "unknown_cluster"
    UNKNOWN_FACE = "unknown_face"
    NEGATIVE = "negative_label"  # a face marked "not this person"


def audit_entry(
    actor: Principal,
    action: Action,
    target: Target,
    target_id: object | None,
    details: dict[str, Any] | None = None,
) -> NewAuditEntry:
    return NewAuditEntry(
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action.value,
        target_kind=target.value,
        target_id=None if target_id is None else str(target_id),
        details=details or {},
    )


class AuditService:
    def __init__(self, repo: AuditRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    def record(
        self,
        actor: Principal,
        action: Action,
        target: Target,
        target_id: object | None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.record_many([audit_entry(actor, action, target, target_id, details)])

    def record_many(self, entries: list[NewAuditEntry]) -> None:
        """Append entries for changes already committed elsewhere. A failure here is logged
        loudly but not raised: the change stands either way, and an error would make the
        client retry (and so repeat) it."""
        try:
            self._repo.record(entries, self._clock())
        except Exception:
            log.exception("AUDIT ENTRIES LOST: %s", entries)

    def page(self, criteria: AuditFilter, offset: int, limit: int) -> Page[AuditRecord]:
        return self._repo.page(criteria, offset, limit)

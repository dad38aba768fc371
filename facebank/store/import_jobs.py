"""Import jobs (bulk imports uploaded over HTTP): records and the repository.

One active job per gallery: a queued or running job holds the unique `active` slot, which
its end sets back to NULL, so two uploads racing each other cannot both start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facebank.errors import ImportInProgressError, NotFoundError
from facebank.store.audit import AuditFor, audited
from facebank.store.coltypes import utcnow
from facebank.store.limits import FILENAME_MAX, TEXT_MAX
from facebank.store.paging import Page
from facebank.store.queries import fetch_page
from facebank.store.shapes import record_from
from facebank.store.tables import ImportJob
from facebank.store.tx import SessionFactory, run_read, run_write
from facebank.store.validation import is_storable_id

ImportState = Literal["queued", "running", "done", "failed", "interrupted"]
ACTIVE_STATES: tuple[ImportState, ...] = ("queued", "running")
ENDED_STATES: tuple[ImportState, ...] = ("done", "failed", "interrupted")
# The value of `active` while a job is queued or running: one gallery per database.
ACTIVE_SLOT = "gallery"


@dataclass(frozen=True)
class ImportCounts:
    """The import summary's counts (facebank.services.import_report), as stored."""

    people_total: int = 0
    photos_total: int = 0
    photos_done: int = 0
    people_created: int = 0
    people_extended: int = 0
    people_unchanged: int = 0
    faces_added: int = 0
    photos_already: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0
    warmup_s: float = 0.0


COUNT_NAMES = tuple(f.name for f in fields(ImportCounts))


@dataclass(frozen=True)
class NewImportJob:
    created_by_kind: str
    created_by_id: int | None
    created_by: str
    source_kind: str  # folder, csv, jsonl
    filename: str
    options: dict[str, Any]  # how to read the source again on resume


@dataclass(frozen=True)
class ImportJobRecord:
    id: int
    state: ImportState
    created_by_kind: str
    created_by_id: int | None
    created_by: str
    source_kind: str
    filename: str
    options: dict[str, Any]
    attempts: int  # runs started: more than one when resumed after a restart
    counts: ImportCounts
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


def import_job_record(row: ImportJob) -> ImportJobRecord:
    counts = ImportCounts(**{name: getattr(row, name) for name in COUNT_NAMES})
    return record_from(ImportJobRecord, row, counts=counts, options=dict(row.options or {}))


def _get(session: Session, job_id: int, lock: bool = False) -> ImportJob:
    row = session.get(ImportJob, job_id, with_for_update=lock) if is_storable_id(job_id) else None
    if row is None:
        raise NotFoundError(f"import job {job_id} not found", job_id=job_id)
    return row


def _busy(owner: int | None) -> ImportInProgressError:
    which = f" (job {owner})" if owner is not None else ""
    return ImportInProgressError(
        f"an import is already queued or running{which}: one at a time; wait for it to end",
        job_id=owner,
    )


class ImportJobsRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def active_job(self) -> int | None:
        """The id of the queued or running job, if any."""
        query = select(ImportJob.id).where(ImportJob.active == ACTIVE_SLOT)
        return run_read(self._sessions, lambda s: s.scalar(query))

    def ensure_free(self) -> None:
        """ImportInProgressError while a job is queued or running."""
        owner = self.active_job()
        if owner is not None:
            raise _busy(owner)

    def create(self, new: NewImportJob, audit: AuditFor[ImportJobRecord]) -> ImportJobRecord:
        """A queued job and its audit entry; ImportInProgressError while another is active."""

        def work(session: Session) -> ImportJobRecord:
            owner = session.scalar(select(ImportJob.id).where(ImportJob.active == ACTIVE_SLOT))
            if owner is not None:
                raise _busy(owner)
            now = utcnow()
            values = {**asdict(new), "filename": new.filename[:FILENAME_MAX]}
            row = ImportJob(
                **values,
                **asdict(ImportCounts()),
                active=ACTIVE_SLOT,
                state="queued",
                attempts=0,
                created_at=now,
            )
            session.add(row)
            session.flush()
            return audited(session, import_job_record(row), audit, now)

        try:
            return run_write(self._sessions, work)
        except IntegrityError as exc:  # two uploads raced past the check: the index decided
            if "active" in str(exc.orig):
                raise _busy(None) from exc
            raise

    def get(self, job_id: int) -> ImportJobRecord:
        return run_read(self._sessions, lambda s: import_job_record(_get(s, job_id)))

    def page(self, offset: int, limit: int) -> Page[ImportJobRecord]:
        """Newest first."""
        query = select(ImportJob).order_by(ImportJob.id.desc())
        return run_read(
            self._sessions, lambda s: fetch_page(s, query, offset, limit, import_job_record)
        )

    def unfinished(self) -> list[ImportJobRecord]:
        """Queued or running jobs, oldest first (at most one, unless a slot was freed by hand)."""
        query = select(ImportJob).where(ImportJob.state.in_(ACTIVE_STATES)).order_by(ImportJob.id)
        return run_read(self._sessions, lambda s: [import_job_record(r) for r in s.scalars(query)])

    def start(self, job_id: int) -> ImportJobRecord:
        """Mark a queued (or resumed) job running; counts restart with the run."""

        def work(session: Session) -> ImportJobRecord:
            row = _get(session, job_id, lock=True)
            now = utcnow()
            for name, value in asdict(ImportCounts()).items():
                setattr(row, name, value)
            row.state = "running"
            row.error = None  # a requeue's "stopped by a shutdown" is over
            row.attempts += 1
            row.started_at = row.started_at or now
            row.heartbeat_at = now
            session.flush()
            return import_job_record(row)

        return run_write(self._sessions, work)

    def progress(self, job_id: int, counts: ImportCounts) -> None:
        """The running job's counts so far, and its heartbeat."""
        statement = (
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == "running")
            .values(**asdict(counts), heartbeat_at=utcnow())
        )
        run_write(self._sessions, lambda s: s.execute(statement))

    def requeue(self, job_id: int, reason: str) -> None:
        """A run stopped by a clean shutdown: queued again, resumed at the next start."""
        statement = (
            update(ImportJob)
            .where(ImportJob.id == job_id, ImportJob.state == "running")
            .values(state="queued", error=reason[:TEXT_MAX], heartbeat_at=utcnow())
        )
        run_write(self._sessions, lambda s: s.execute(statement))

    def finish(
        self,
        job_id: int,
        state: ImportState,
        counts: ImportCounts | None = None,
        report: str | None = None,
        error: str | None = None,
    ) -> ImportJobRecord:
        """End an active job (frees the slot); ending one that already ended changes nothing."""
        assert state in ENDED_STATES

        def work(session: Session) -> ImportJobRecord:
            row = _get(session, job_id, lock=True)
            if row.state not in ACTIVE_STATES:
                return import_job_record(row)
            now = utcnow()
            if counts is not None:
                for name, value in asdict(counts).items():
                    setattr(row, name, value)
            row.state = state
            row.active = None
            row.report = report
            row.error = None if error is None else error[:TEXT_MAX]
            row.finished_at = now
            row.heartbeat_at = now
            session.flush()
            return import_job_record(row)

        return run_write(self._sessions, work)

    def report(self, job_id: int) -> str | None:
        """The stored report (JSON text), or None when the job has none (yet)."""

        def work(session: Session) -> str | None:
            _get(session, job_id)
            return session.scalar(select(ImportJob.report).where(ImportJob.id == job_id))

        return run_read(self._sessions, work)

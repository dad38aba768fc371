"""JSON shapes of /api/v1/imports: a job with its progress (rate, ETA), pages, the report."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from facebank.api.answers import PageOut
from facebank.services.import_report import ImportSummary
from facebank.store.import_jobs import ImportJobRecord


class ImportCountsOut(BaseModel):
    people_total: int
    photos_total: int
    photos_done: int = Field(description="photos analysed or skipped so far")
    people_created: int
    people_extended: int = Field(description="existing people given new photos")
    people_unchanged: int
    faces_added: int
    photos_already: int = Field(description="photos the person already had (an earlier run)")
    skipped: int = Field(description="photos or rows skipped: see the report")


class ImportJobOut(BaseModel):
    id: int
    state: str = Field(description="queued, running, done, failed or interrupted")
    filename: str
    source_kind: str = Field(description="folder (a folder per person), csv or jsonl")
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None = Field(description="last progress written by the runner")
    attempts: int = Field(description="runs started; more than 1 after a resume")
    counts: ImportCountsOut = Field(description="of the current (or last) run")
    progress: float = Field(description="share of the photos done, 0 to 1")
    elapsed_s: float = Field(description="of the current (or last) run")
    photos_per_s: float
    eta_s: float | None = Field(description="seconds left at the current rate, while running")
    error: str | None
    report: str | None = Field(description="where the report is, once the job has ended")


class ImportJobsPage(PageOut):
    items: list[ImportJobOut]


class SkippedOut(BaseModel):
    person: str = Field(description="folder name, or the table's row number")
    photo: str = Field(description="path inside the archive; empty for a whole row")
    reason: str
    detail: str


class ImportReportOut(ImportCountsOut):
    elapsed_s: float
    warmup_s: float
    skipped: list[SkippedOut]  # type: ignore[assignment]  # the list, not its length


def job_out(job: ImportJobRecord, report_url: str) -> ImportJobOut:
    counts = job.counts
    summary = ImportSummary(
        photos_total=counts.photos_total,
        photos_done=counts.photos_done,
        elapsed_s=counts.elapsed_s,
        warmup_s=counts.warmup_s,
    )
    rate = summary.steady_photos_per_s or summary.photos_per_s
    left = counts.photos_total - counts.photos_done
    running = job.state == "running"
    return ImportJobOut(
        id=job.id,
        state=job.state,
        filename=job.filename,
        source_kind=job.source_kind,
        created_by=job.created_by,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_at=job.heartbeat_at,
        attempts=job.attempts,
        counts=ImportCountsOut.model_validate(counts, from_attributes=True),
        progress=counts.photos_done / counts.photos_total if counts.photos_total else 0.0,
        elapsed_s=counts.elapsed_s,
        photos_per_s=rate,
        eta_s=left / rate if running and rate > 0 else None,
        error=job.error,
        report=None if job.active else report_url,
    )

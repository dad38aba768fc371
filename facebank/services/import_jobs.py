"""Import jobs: a bulk import uploaded over HTTP, run in the background, one at a time.

The upload is streamed into data_dir/imports/incoming-<random>/ (by the API), unpacked
there safely (import_archive), and its source found and read (import_upload), all before
the job exists: a bad archive is refused at once and leaves nothing behind. The job row
then takes the gallery's one active slot (a second upload meanwhile is refused with
ImportInProgressError), the folder becomes imports/<job id>/, and a thread runs the
Importer over it on `settings.effective_import_workers` processes (half the cores by
default: the server keeps serving), writing counts and a heartbeat every
`import_progress_interval_s`. At the end the report is stored with the job and the
unpacked files are removed.

Restarts: the importer is idempotent (re-running a source adds exactly what is missing),
so a job left queued or running by a stopped or crashed process is simply run again at
start-up from its unpacked files; its counts then describe the last run (what earlier runs
enrolled shows as `photos_already`). A job whose files are gone is marked `interrupted`.
While a process runs a job it holds a lock on a file in the job's folder, so when
`serve --workers N` starts N processes only one resumes it (like the sessions' runner).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from facebank.auth.principal import Principal, PrincipalKind
from facebank.config import Settings
from facebank.errors import FacebankError, NotFoundError
from facebank.services.audit import Action, Target, audit_entry
from facebank.services.import_archive import remove, unpack
from facebank.services.import_report import ImportSummary, Skipped, report_body, skipped_csv
from facebank.services.import_upload import read_upload, relative_report
from facebank.services.importer import Importer
from facebank.services.photos import FaceChoice
from facebank.sessions.runner_lock import RunnerLock
from facebank.store.audit import NewAuditEntry
from facebank.store.import_jobs import (
    ImportCounts,
    ImportJobRecord,
    ImportJobsRepository,
    ImportState,
    NewImportJob,
)
from facebank.store.paging import Page

log = logging.getLogger(__name__)

UPLOAD_NAME = "upload.zip"
FILES_NAME = "files"
LOCK_NAME = "job.lock"
STAGING_PREFIX = "incoming-"
# An upload folder left by a process that died while receiving it; younger ones may still
# be receiving in another process of the same data directory.
STALE_STAGING_S = 24 * 3600
JOIN_TIMEOUT_S = 120.0  # close(): a run stops after the photos in flight


class _Stopped(Exception):
    """Raised from the progress callback to stop the importer between photos."""


@dataclass(frozen=True)
class ImportOptions:
    columns: dict[str, str]
    face_choice: FaceChoice

    def stored(self) -> dict[str, Any]:
        return {"columns": self.columns, "face_choice": self.face_choice.value}

    @classmethod
    def of(cls, record: ImportJobRecord) -> ImportOptions:
        options = record.options
        return cls(
            dict(options.get("columns") or {}), FaceChoice(options.get("face_choice", "auto"))
        )


def counts_of(summary: ImportSummary) -> ImportCounts:
    values = asdict(summary)
    values["skipped"] = len(summary.skipped)
    return ImportCounts(**values)


def actor_of(record: ImportJobRecord) -> Principal:
    """The job's creator as the actor of what it enrolls (only the audit log reads it)."""
    kind = PrincipalKind(record.created_by_kind)
    return Principal(kind, record.created_by_id, record.created_by, None, frozenset())


class ImportJobService:
    def __init__(
        self,
        settings: Settings,
        jobs: ImportJobsRepository,
        importer: Importer,
        refresh_index: Callable[[], object],
    ) -> None:
        self._settings = settings
        self._jobs = jobs
        self._importer = importer
        self._refresh_index = refresh_index
        self._root = settings.imports_dir.resolve()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._launch_lock = threading.Lock()

    # --- receiving an upload ------------------------------------------------------------------

    def ensure_free(self) -> None:
        """ImportInProgressError while a job is active: checked before the upload is read."""
        self._jobs.ensure_free()

    def new_staging(self) -> Path:
        """A fresh folder for an upload; `upload_path` is where its zip goes."""
        folder = self._root / f"{STAGING_PREFIX}{secrets.token_hex(8)}"
        folder.mkdir(parents=True)
        return folder

    @staticmethod
    def upload_path(staging: Path) -> Path:
        return staging / UPLOAD_NAME

    def discard(self, staging: Path) -> None:
        remove(staging)

    def submit(
        self,
        actor: Principal,
        staging: Path,
        filename: str,
        columns: Mapping[str, str] | None = None,
        face_choice: FaceChoice = FaceChoice.AUTO,
    ) -> ImportJobRecord:
        """Unpack and check the received upload, create the job and start it. Whatever
        fails, the staging folder is removed (nothing of a refused upload stays)."""
        options = ImportOptions(dict(columns or {}), face_choice)
        try:
            files = unpack(
                self.upload_path(staging),
                staging / FILES_NAME,
                self._settings.import_max_entries,
                self._settings.import_max_unpacked_bytes,
            )
            self.upload_path(staging).unlink()  # unpacked: the zip is not needed again
            source, _ = read_upload(files, filename, options.columns)
            new = NewImportJob(
                actor.kind.value, actor.id, actor.name, source.kind, filename, options.stored()
            )
            job = self._jobs.create(new, lambda r: _entry(actor, r))
        except BaseException:
            remove(staging)
            raise
        staging.rename(self._folder(job.id))
        self._launch(job)
        return job

    # --- reading jobs -------------------------------------------------------------------------

    def get(self, job_id: int) -> ImportJobRecord:
        return self._jobs.get(job_id)

    def page(self, offset: int, limit: int) -> Page[ImportJobRecord]:
        return self._jobs.page(offset, limit)

    def report(self, job_id: int) -> dict[str, Any]:
        """The stored JSON report; NotFoundError until the job has ended with one."""
        text = self._jobs.report(job_id)
        if text is None:
            raise NotFoundError(f"import job {job_id} has no report (yet)", job_id=job_id)
        body: dict[str, Any] = json.loads(text)
        return body

    def report_csv(self, job_id: int) -> str:
        return skipped_csv(Skipped(**item) for item in self.report(job_id)["skipped"])

    # --- start-up and shut-down ---------------------------------------------------------------

    def resume(self) -> None:
        """Run again the job a stopped process left unfinished, or say it was interrupted."""
        self._sweep()
        for job in self._jobs.unfinished():
            files = self._folder(job.id) / FILES_NAME
            if not files.is_dir():
                self._jobs.finish(
                    job.id,
                    "interrupted",
                    error="the server stopped while this import ran, and its unpacked files "
                    "are gone: upload the archive again (what was imported stays)",
                )
                log.warning("import job %d interrupted: its files are gone", job.id)
                continue
            log.info("resuming import job %d", job.id)
            self._launch(job)

    def close(self) -> None:
        """Stop the running job between photos; it stays queued and resumes at next start."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("import job thread did not stop within %.0f s", JOIN_TIMEOUT_S)

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    # --- running ------------------------------------------------------------------------------

    def _folder(self, job_id: int) -> Path:
        return self._root / str(job_id)

    def _launch(self, job: ImportJobRecord) -> None:
        with self._launch_lock:
            if self._stop.is_set():
                return  # shutting down: the job stays queued for the next start
            thread = threading.Thread(
                target=self._run_locked, args=(job,), name=f"import-{job.id}", daemon=True
            )
            self._thread = thread
            thread.start()

    def _run_locked(self, job: ImportJobRecord) -> None:
        folder = self._folder(job.id)
        lock = RunnerLock(folder / LOCK_NAME)
        if not lock.try_acquire():
            log.info("import job %d runs in another process", job.id)
            return
        try:
            self._run(job, folder)
        except Exception:  # the database away at the end, say: next start resumes it
            log.exception("import job %d stopped by an unexpected error", job.id)
        finally:
            lock.release()

    def _run(self, job: ImportJobRecord, folder: Path) -> None:
        record = self._jobs.start(job.id)
        options = ImportOptions.of(record)
        files = folder / FILES_NAME
        summary = ImportSummary()
        try:
            _, source = read_upload(files, record.filename, options.columns)
            self._importer.run(
                actor_of(record),
                source,
                summary,
                workers=self._settings.effective_import_workers,
                choice=options.face_choice,
                progress=self._progress(job.id),
            )
        except _Stopped:
            self._jobs.requeue(job.id, "stopped by a server shutdown; resumes at the next start")
            return
        except FacebankError as exc:
            self._end(job.id, "failed", summary, files, exc.message)
        except BrokenProcessPool:
            self._end(job.id, "failed", summary, files, "an import worker process died")
        else:
            self._end(job.id, "done", summary, files, None)
        # After the end is stored: a crash in between leaves the folder to the next start's
        # sweep, never a finished job that looks interrupted.
        remove(folder)
        self._refresh_index()

    def _progress(self, job_id: int) -> Callable[[ImportSummary], None]:
        interval = self._settings.import_progress_interval_s
        last = time.monotonic()

        def progress(summary: ImportSummary) -> None:
            nonlocal last
            if self._stop.is_set():
                raise _Stopped
            now = time.monotonic()
            if now - last >= interval:
                last = now
                self._jobs.progress(job_id, counts_of(summary))

        return progress

    def _end(
        self,
        job_id: int,
        state: ImportState,
        summary: ImportSummary,
        files: Path,
        error: str | None,
    ) -> None:
        report = relative_report(summary, files)
        body = json.dumps(report_body(report), ensure_ascii=False)
        self._jobs.finish(job_id, state, counts_of(summary), body, error)
        log.info("import job %d %s: %s", job_id, state, summary.as_text().replace("\n", "; "))

    def _sweep(self) -> None:
        """Remove folders of ended jobs and of uploads abandoned long ago."""
        if not self._root.is_dir():
            return
        for folder in self._root.iterdir():
            if folder.name.startswith(STAGING_PREFIX):
                if time.time() - folder.stat().st_mtime > STALE_STAGING_S:
                    remove(folder)
            elif folder.name.isdigit() and not self._still_active(int(folder.name)):
                remove(folder)

    def _still_active(self, job_id: int) -> bool:
        try:
            return self._jobs.get(job_id).active
        except NotFoundError:
            return False


def _entry(actor: Principal, job: ImportJobRecord) -> NewAuditEntry:
    details = {"filename": job.filename, "source_kind": job.source_kind}
    return audit_entry(actor, Action.CREATE, Target.IMPORT, job.id, details)

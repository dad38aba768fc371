"""The import jobs repository: one active job per gallery, progress, the end and its report."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from facebank.errors import ImportInProgressError, NotFoundError
from facebank.store.audit import NewAuditEntry
from facebank.store.import_jobs import (
    ImportCounts,
    ImportJobRecord,
    ImportJobsRepository,
    NewImportJob,
)

NEW = NewImportJob("user", 7, "alice", "folder", "people.zip", {"face_choice": "auto"})


def _entry(job: ImportJobRecord) -> NewAuditEntry:
    return NewAuditEntry(
        actor_kind="user",
        actor_id=7,
        actor_name="alice",
        action="create",
        target_kind="import",
        target_id=str(job.id),
        details={},
    )


@pytest.fixture
def jobs(engine: Engine, sessions: sessionmaker[Session]) -> ImportJobsRepository:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM import_jobs"))
    return ImportJobsRepository(sessions)


def test_one_active_job_then_the_next(jobs: ImportJobsRepository) -> None:
    first = jobs.create(NEW, _entry)
    assert (first.state, first.options, jobs.active_job()) == ("queued", NEW.options, first.id)
    with pytest.raises(ImportInProgressError) as refused:
        jobs.create(NEW, _entry)
    assert refused.value.details["job_id"] == first.id
    running = jobs.start(first.id)
    assert (running.state, running.attempts) == ("running", 1)
    jobs.progress(first.id, ImportCounts(people_total=3, photos_done=2, elapsed_s=1.5))
    assert jobs.get(first.id).counts.photos_done == 2
    done = jobs.finish(first.id, "done", ImportCounts(people_total=3, photos_done=5), '{"a": 1}')
    assert (done.state, done.counts.photos_done, jobs.active_job()) == ("done", 5, None)
    assert jobs.report(first.id) == '{"a": 1}'
    again = jobs.finish(first.id, "failed", error="late")  # an ended job stays as it ended
    assert (again.state, again.error) == ("done", None)
    second = jobs.create(NEW, _entry)
    assert [j.id for j in jobs.page(0, 10).items] == [second.id, first.id]
    assert [j.id for j in jobs.unfinished()] == [second.id]
    assert jobs.report(second.id) is None


def test_requeue_and_missing_jobs(jobs: ImportJobsRepository) -> None:
    job = jobs.create(NEW, _entry)
    jobs.start(job.id)
    jobs.requeue(job.id, "stopped by shutdown")
    requeued = jobs.get(job.id)
    assert (requeued.state, requeued.error) == ("queued", "stopped by shutdown")
    resumed = jobs.start(job.id)
    assert (resumed.attempts, resumed.error) == (2, None)
    with pytest.raises(NotFoundError):
        jobs.get(2**70)
    with pytest.raises(NotFoundError):
        jobs.report(123456789)

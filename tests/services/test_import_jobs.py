"""Import jobs in the service: an upload run in the background to its report, and a job a
stopped or crashed server left behind, resumed by the next start (or said interrupted)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from facebank.auth.principal import system_principal
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.container import Services, build_services
from facebank.services.import_jobs import LOCK_NAME, ImportJobService
from facebank.sessions.runner_lock import RunnerLock
from facebank.store.db import make_session_factory
from facebank.store.import_jobs import ImportJobsRepository
from facebank.store.people import PersonFilter
from tests.api.conftest import BACKENDS, make_settings, running_services
from tests.dbservers import fresh_database
from tests.services.import_sources import folder_source, zip_folder
from tests.waiting import wait_until

ACTOR = system_principal("tests-import-jobs")
IMPORT_TIMEOUT_S = 240.0


def submit(jobs: ImportJobService, archive: Path, filename: str = "people.zip") -> int:
    staging = jobs.new_staging()
    shutil.copy(archive, jobs.upload_path(staging))
    return jobs.submit(ACTOR, staging, filename).id


def wait_ended(services: Services, job_id: int) -> str:
    wait_until(
        lambda: not services.imports.get(job_id).active,
        timeout=IMPORT_TIMEOUT_S,
        what=f"import job {job_id} to end",
    )
    return services.imports.get(job_id).state


def people_and_faces(services: Services) -> tuple[int, int]:
    people = services.gallery.search_people(PersonFilter(), 0, 100).items
    return len(people), sum(len(services.faces.list_for_person(p.id)) for p in people)


def test_an_upload_runs_to_its_report_and_leaves_no_files(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip", inside="people")
    with running_services("sqlite", tmp_path / "data", face_pipeline) as services:
        job_id = submit(services.imports, archive)
        assert wait_ended(services, job_id) == "done"
        job = services.imports.get(job_id)
        assert (job.source_kind, job.attempts, job.counts.people_created) == ("folder", 1, 4)
        assert (job.counts.faces_added, job.counts.skipped) == (9, 4)
        skipped = sorted(
            (s["person"], s["photo"]) for s in services.imports.report(job_id)["skipped"]
        )
        assert skipped == [
            ("Empty_Folder", ""),
            ("Joe_Biden", "people/Joe_Biden/broken.jpg"),
            ("Joe_Biden", "people/Joe_Biden/zz_same_bytes.jpg"),
            ("Nobody_Here", "people/Nobody_Here/wall.png"),
        ]
        folder = services.settings.imports_dir / str(job_id)
        wait_until(lambda: not folder.exists(), what="the files removed after the end")
        assert people_and_faces(services) == (4, 9)
        # The same archive again: the same people are found, nothing is added.
        again = submit(services.imports, archive)
        assert wait_ended(services, again) == "done"
        counts = services.imports.get(again).counts
        assert (counts.people_created, counts.people_unchanged, counts.faces_added) == (0, 4, 0)
        assert people_and_faces(services) == (4, 9)


@contextmanager
def started(data: Path, url: str, face_pipeline: FacePipeline) -> Iterator[Services]:
    """A service start over an existing database and data directory (a restart)."""
    services = build_services(make_settings(data, url), pipeline=face_pipeline)
    try:
        services.start()
        yield services
    finally:
        services.close()


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_job_left_running_is_resumed_at_the_next_start(
    kind: str, tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip")
    data = tmp_path / "data"
    with ExitStack() as stack:
        url = "" if kind == "sqlite" else stack.enter_context(fresh_database(kind))
        with started(data, url, face_pipeline) as services:
            job_id = submit(services.imports, archive)
            wait_until(lambda: services.imports.get(job_id).state == "running", what="the start")
            services.imports.close()  # a shutdown mid-run: the job goes back to the queue
            stopped = services.imports.get(job_id)
            assert (stopped.state, stopped.active) == ("queued", True)
            # As a crash would leave it: still "running", nobody running it, the files there.
            ImportJobsRepository(make_session_factory(services.engine)).start(job_id)
        assert (data / "imports" / str(job_id) / "files" / "Joe_Biden").is_dir()
        with started(data, url, face_pipeline) as services:
            assert wait_ended(services, job_id) == "done"
            job = services.imports.get(job_id)
            assert job.attempts == 3  # the first run, the crash's, this one
            assert people_and_faces(services) == (4, 9)  # as if never interrupted
            folder = data / "imports" / str(job_id)
            wait_until(lambda: not folder.exists(), what="the files removed after the end")


def test_a_job_another_process_runs_is_left_to_it(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip")
    data = tmp_path / "data"
    with running_services("sqlite", data, face_pipeline) as services:
        job_id = submit(services.imports, archive)
        services.imports.close()
        url = services.settings.effective_database_url
    # Another process of the same data directory (serve --workers N) holds the job's lock.
    other = RunnerLock(data / "imports" / str(job_id) / LOCK_NAME)
    assert other.try_acquire()
    try:
        with started(data, url, face_pipeline) as services:
            wait_until(lambda: not services.imports.running, what="the start-up to pass")
            job = services.imports.get(job_id)
            assert (job.state, job.attempts) == ("queued", 1)  # not run a second time here
    finally:
        other.release()


def test_a_job_whose_files_are_gone_is_marked_interrupted(
    tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    archive = zip_folder(folder_source(tmp_path), tmp_path / "people.zip")
    data = tmp_path / "data"
    with running_services("sqlite", data, face_pipeline) as services:
        job_id = submit(services.imports, archive)
        services.imports.close()
    shutil.rmtree(data / "imports" / str(job_id))
    with running_services("sqlite", data, face_pipeline) as services:
        job = services.imports.get(job_id)
        assert (job.state, job.active) == ("interrupted", False)
        assert job.error is not None and "upload the archive again" in job.error
        services.imports.ensure_free()  # the slot is free again

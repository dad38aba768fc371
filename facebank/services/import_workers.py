"""The import's CPU work: one single-thread pipeline per worker process, one per core.

As the bench's bare ceiling runs (facebank.bench.ceiling): processes, not threads, so the
workers share not even the GIL, each ONNX Runtime session on one thread. A worker reads a
photo, hashes it, and when the person does not have it yet decodes, detects and embeds it.
It writes nothing: no database, no media store. The face it returns names the photo by its
ref (the sha256 the media store files it under) and format; the parent reads the photo
again, checks the ref, and stores it before it commits the person's faces in one
transaction. So a worker never waits on a disk flush while its core idles.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from facebank.config import Settings
from facebank.errors import FacebankError
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.import_report import IMAGE_INVALID, MISSING_FILE
from facebank.services.photos import (
    EnrollRules,
    FaceChoice,
    Photo,
    new_face_record,
    prepare_photo,
)
from facebank.store.media import media_ref
from facebank.store.people import NewFace

# Jobs queued per worker: enough that no worker waits for the next photo, few enough that
# an interrupted import has little done-but-uncommitted work.
JOBS_PER_WORKER = 4
# How often a worker checks that its parent still lives (a SIGKILLed parent leaves the
# pool's workers waiting forever on its queue, each holding its models in memory).
PARENT_CHECK_S = 1.0


@dataclass(frozen=True)
class PhotoJob:
    person: int  # position of the person in the source
    path: str
    known_refs: frozenset[str]  # the photos (sha256) the person already has


@dataclass(frozen=True)
class PhotoOutcome:
    """`face` when enrollable; `ref` alone when the person already has it; else `skip`.

    The face's media_ref is `ref` and its media_type the photo's format (the extension it is
    stored under): what the media store's put returns and is given, once the parent stores
    the photo. Until then no file holds it."""

    person: int
    path: str
    ref: str | None = None
    face: NewFace | None = None
    skip: str | None = None
    detail: str = ""


@dataclass
class _Worker:
    pipeline: FacePipeline
    choice: FaceChoice
    rules: EnrollRules


_worker: _Worker | None = None


def _start_worker(settings: Settings, choice: FaceChoice, parent: int) -> None:
    global _worker
    # Ctrl-C reaches the whole process group; the parent decides how the import stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    pipeline = build_pipeline(settings.model_copy(update={"ort_threads": 1}), narrow_lanes=0)
    _worker = _Worker(pipeline, choice, EnrollRules.from_settings(settings))


def _exit_with_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:  # re-parented: the importer died without closing the pool
            os._exit(1)


def analyse_photo(job: PhotoJob) -> PhotoOutcome:
    assert _worker is not None, "analyse_photo runs in a worker started by PhotoWorkers"
    try:
        with open(job.path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        return PhotoOutcome(job.person, job.path, skip=MISSING_FILE, detail=exc.strerror or "")
    ref = media_ref(data)  # known photos are skipped before any model work
    if ref in job.known_refs:
        return PhotoOutcome(job.person, job.path, ref=ref)
    try:
        prepared = prepare_photo(_worker.pipeline, Photo(data), _worker.choice, _worker.rules)
    except FacebankError as exc:
        return PhotoOutcome(job.person, job.path, ref=ref, skip=exc.code, detail=exc.message)
    except Exception as exc:  # a photo the decoder or a model chokes on is one bad photo
        detail = f"could not be analysed ({exc.__class__.__name__}: {exc})"
        return PhotoOutcome(job.person, job.path, ref=ref, skip=IMAGE_INVALID, detail=detail)
    face = new_face_record(prepared.face, prepared.image, ref, _worker.pipeline.model_id)
    return PhotoOutcome(job.person, job.path, ref=ref, face=face)


class PhotoWorkers:
    """A pool of `count` worker processes analysing PhotoJobs, results as they finish."""

    def __init__(self, settings: Settings, count: int, choice: FaceChoice) -> None:
        self._count = max(1, count)
        self._pool = ProcessPoolExecutor(
            max_workers=self._count,
            mp_context=mp.get_context("spawn"),  # fresh interpreters: no inherited ORT state
            initializer=_start_worker,
            initargs=(settings, choice, os.getpid()),
        )

    def analyse(self, jobs: Iterable[PhotoJob]) -> Iterator[PhotoOutcome]:
        """Outcomes in completion order, never more than JOBS_PER_WORKER per worker queued."""
        pending: set[Future[PhotoOutcome]] = set()
        queue = iter(jobs)
        limit = self._count * JOBS_PER_WORKER
        while True:
            for job in queue:
                pending.add(self._pool.submit(analyse_photo, job))
                if len(pending) >= limit:
                    break
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PhotoWorkers:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

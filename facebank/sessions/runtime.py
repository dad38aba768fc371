"""One running session: its cameras, who it already reported, and the events it writes.

Thread model: recognitions arrive on scheduler threads, camera status changes on reader
threads; ending the session is only ever done by the manager (supervisor or API thread), so
no camera thread has to stop itself.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from facebank.pipeline.pipeline import FacePipeline
from facebank.sessions import events
from facebank.sessions.camera import CameraReader, CameraState
from facebank.sessions.camera_job import CameraJob, CameraStats
from facebank.sessions.evidence import EvidenceStore
from facebank.sessions.frames import Frame
from facebank.sessions.observer import NoObserver, SessionObserver
from facebank.sessions.policy import SessionPolicies
from facebank.sessions.recognizer import FaceSearcher, FrameRecognizer, Seen
from facebank.sessions.scheduler import FrameScheduler
from facebank.sessions.sightings import SightingBuffer
from facebank.sessions.sources import parse_source
from facebank.sessions.unknown_sink import UnknownSighting, UnknownSink
from facebank.sessions.unknown_tracks import UnknownCandidate
from facebank.store.people import PeopleRepository
from facebank.store.sessions import (
    CameraRecord,
    EventRecord,
    EventRepository,
    NewEvent,
    SessionRecord,
    SessionRepository,
    SessionStatus,
)

log = logging.getLogger(__name__)

TERMINAL_CAMERA = {"failed", "finished"}


@dataclass(frozen=True)
class RuntimeDeps:
    pipeline: FacePipeline
    searcher: FaceSearcher
    people: PeopleRepository
    sessions: SessionRepository
    events: EventRepository
    evidence: EvidenceStore
    scheduler: FrameScheduler
    policies: SessionPolicies
    on_event: Callable[[EventRecord], None]  # after an event is stored (wakes the deliverer)
    observer: SessionObserver = field(default_factory=NoObserver)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Keeps (stores and clusters) the faces of tracks that ended unknown; None: not kept.
    unknowns: UnknownSink | None = None


class SessionRuntime:
    def __init__(
        self,
        record: SessionRecord,
        deps: RuntimeDeps,
        last_reported: dict[int, datetime],
        camera_ids: Collection[int] | None = None,
    ) -> None:
        """Runs the cameras in `camera_ids` (None: all of them); the others run on other
        runners, and what this one knows of them comes from `note_record`."""
        self.record = record
        self._deps = deps
        self._lock = threading.Lock()
        # person -> when last reported; rebuilt from stored events on resume.
        self._reported = dict(last_reported)
        self._sightings = SightingBuffer()
        self._camera_status = {c.id: c.status for c in record.cameras}
        self._jobs: list[CameraJob] = []
        self._dropped_reported: dict[int, int] = {}
        self._closed = False
        self._wanted = None if camera_ids is None else set(camera_ids)

    @property
    def id(self) -> int:
        return self.record.id

    def start(self) -> None:
        for camera in self.record.cameras:
            if self._wanted is None or camera.id in self._wanted:
                self._start_camera(camera)

    def _start_camera(self, camera: CameraRecord) -> None:
        if camera.status == "finished":  # a video file that already played out
            return
        job = self._camera_job(camera)
        with self._lock:
            self._jobs.append(job)
        self._deps.scheduler.add(job)
        assert job.reader is not None
        job.reader.start()

    def camera_ids(self) -> set[int]:
        """The cameras this runtime reads."""
        with self._lock:
            return {job.camera.id for job in self._jobs}

    def finished_ids(self) -> set[int]:
        """Cameras here that played out: kept (not handed over) until the session ends."""
        with self._lock:
            return {cid for cid, status in self._camera_status.items() if status == "finished"}

    def add_cameras(self, camera_ids: Collection[int]) -> None:
        """Start reading more of the session's cameras (leases won by this runner)."""
        running = self.camera_ids()
        for camera in self.record.cameras:
            if camera.id in camera_ids and camera.id not in running:
                self._start_camera(camera)

    def remove_cameras(self, camera_ids: Collection[int]) -> None:
        """Stop reading some cameras (handed to another runner), frames in flight done."""
        with self._lock:
            leaving = [job for job in self._jobs if job.camera.id in camera_ids]
            self._jobs = [job for job in self._jobs if job.camera.id not in camera_ids]
        self._stop_jobs(leaving)

    def note_record(self, record: SessionRecord) -> None:
        """Statuses of the cameras other runners read, as the database has them (for
        `end_reason`: a session ends when every camera, wherever it runs, is done)."""
        running = self.camera_ids()
        with self._lock:
            for camera in record.cameras:
                if camera.id not in running:
                    self._camera_status[camera.id] = camera.status

    def _camera_job(self, camera: CameraRecord) -> CameraJob:
        policies = self._deps.policies
        recognizer = FrameRecognizer(
            self._deps.pipeline,
            self._deps.searcher,
            policies.recognition,
            policies.tracker,
            self.record.threshold,
            self.record.roster,
            policies.unknowns if self._deps.unknowns is not None else None,
        )
        job = CameraJob(camera, recognizer, self)
        job.reader = CameraReader(
            f"{self.id}/{camera.name}",
            parse_source(camera.url),
            camera.target_fps,
            camera.loop,
            policies.camera,
            job,
        )
        return job

    def stop(self) -> None:
        """Stop cameras and wait for frames in flight, so nothing is reported afterwards."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs)
        self._stop_jobs(jobs)
        self.flush()

    def _stop_jobs(self, jobs: list[CameraJob]) -> None:
        for job in jobs:
            assert job.reader is not None
            job.reader.stop()
        for job in jobs:
            self._deps.scheduler.remove(job)
            job.end_tracks()  # no frame in flight any more: the tracks are ours
        for job in jobs:
            assert job.reader is not None
            job.reader.join(self._deps.policies.camera.read_timeout_s + 2)
            self._deps.observer.camera_stopped(self.record.key, job.camera.name)

    def cameras(self) -> list[CameraStats]:
        with self._lock:
            jobs = list(self._jobs)
        return [job.stats() for job in jobs]

    def publish_metrics(self) -> None:
        """Measured fps and newly dropped frames of each camera, to the observer."""
        for stats in self.cameras():
            key, name = self.record.key, stats.name
            self._deps.observer.set_fps(key, name, stats.fps)
            new_drops = stats.frames_dropped - self._dropped_reported.get(stats.id, 0)
            if new_drops > 0:
                self._deps.observer.frames_dropped(key, name, new_drops)
                self._dropped_reported[stats.id] = stats.frames_dropped

    def end_reason(self) -> tuple[SessionStatus, str] | None:
        """Why the session should end now, if it should (checked by the supervisor)."""
        ends_at = self.record.ends_at
        if ends_at is not None and self._deps.now() >= ends_at:
            return "ended", "end time reached"
        with self._lock:
            statuses = dict(self._camera_status)
        if not statuses or not set(statuses.values()) <= TERMINAL_CAMERA:
            return None
        if "finished" in statuses.values():
            return "ended", "every camera finished"
        with self._lock:
            jobs = list(self._jobs)
        errors = "; ".join(
            f"{job.camera.name}: {job.reader.state.error or 'failed'}"
            for job in jobs
            if job.reader is not None
        )
        return "failed", f"every camera failed ({errors})"

    def flush(self) -> None:
        """Write the buffered seen-statistics to the summary."""
        batch = self._sightings.take_all()
        try:
            self._deps.sessions.record_sightings(self.id, batch)
        except Exception:
            self._sightings.merge(batch)  # next flush tries again
            log.exception("session %s: saving sightings failed", self.id)

    # ---- from camera jobs ----------------------------------------------------------------

    def frame_ready(self, job: CameraJob) -> None:
        self._deps.scheduler.notify(job)

    def frame_done(self, camera: CameraRecord, frame: Frame, seen: list[Seen]) -> None:
        self._deps.observer.frame_processed(self.record.key, camera.name)
        best: dict[int, Seen] = {}
        for s in seen:
            self._sightings.add(s.person_id, frame.captured_at, s.score, s.newly_confirmed)
            if s.person_id not in best or s.score > best[s.person_id].score:
                best[s.person_id] = s
        for s in best.values():
            due, previous = self._claim(s.person_id, frame.captured_at)
            if due:
                self._report(camera, frame, s, previous)

    def unknowns_ended(self, camera: CameraRecord, unknowns: list[UnknownCandidate]) -> None:
        """Hand each unknown track's face to the sink; with `unknown_events`, report the
        cluster it started or joined. A failing sink loses the face, never the camera."""
        sink = self._deps.unknowns
        if sink is None:
            return
        for unknown in unknowns:
            sighting = UnknownSighting(
                crop=unknown.crop,
                face=unknown.face,
                seen_at=unknown.seen_at,
                source="session",
                session_id=self.id,
                camera_id=camera.id,
                camera_name=camera.name,
            )
            try:
                kept = sink.keep(sighting)
            except Exception:
                log.exception("session %s: keeping an unknown face failed", self.id)
                continue
            if kept is not None and self.record.unknown_events:
                event = events.unknown_cluster(
                    self.record, camera, kept, unknown.seen_at, self._now()
                )
                self._emit(event)

    def camera_changed(self, camera: CameraRecord, old: CameraState, new: CameraState) -> None:
        if new.status == "stopped":
            return  # the session is stopping or the service shutting down: not news
        with self._lock:
            self._camera_status[camera.id] = new.status
        try:
            self._deps.sessions.set_camera_state(camera.id, new.status, new.failures, new.error)
        except Exception:
            log.exception("session %s: saving camera %s state failed", self.id, camera.id)
        if new.status == "failed" and old.status != "failed":
            self._emit(events.camera_changed(self.record, camera, True, new.error, self._now()))
        elif old.status == "failed" and new.status == "running":
            self._emit(events.camera_changed(self.record, camera, False, None, self._now()))

    # ---- reporting -------------------------------------------------------------------------

    def _claim(self, person_id: int, at: datetime) -> tuple[bool, datetime | None]:
        """Reserve the right to report this person now: (due, previous report time), the
        latter to restore should storing the event fail."""
        with self._lock:
            last = self._reported.get(person_id)
            if self._closed or (
                last is not None
                and (
                    self.record.mode == "once"
                    or (at - last).total_seconds() < self.record.cooldown_s
                )
            ):
                return False, last
            self._reported[person_id] = at
            return True, last

    def _report(
        self, camera: CameraRecord, frame: Frame, seen: Seen, previous: datetime | None
    ) -> None:
        event_id = events.new_event_id()
        with_evidence = self.record.evidence and self._deps.policies.evidence.enabled
        sightings = self._sightings.take(seen.person_id)
        try:
            if with_evidence:
                self._deps.evidence.save(self.id, event_id, frame.pixels, seen.detection.box)
            person = self._deps.people.get_many([seen.person_id]).get(seen.person_id)
            new = events.recognition(
                self.record, camera, event_id, seen.person_id, person, seen.score,
                seen.detection, frame.captured_at, with_evidence, self._now(),
            )
            stored = self._deps.events.append_recognition(self.id, new, sightings)
        except Exception:
            log.exception("session %s: storing a recognition failed; will report again", self.id)
            self._sightings.merge(sightings)
            with self._lock:
                if self._reported.get(seen.person_id) == frame.captured_at:
                    self._restore(seen.person_id, previous)
            self._deps.evidence.delete(self.id, event_id)
            return
        if stored is None:  # a camera of this session on another runner reported them
            self._deps.evidence.delete(self.id, event_id)
            return
        self._deps.on_event(stored)

    def _restore(self, person_id: int, previous: datetime | None) -> None:
        if previous is None:
            self._reported.pop(person_id, None)
        else:
            self._reported[person_id] = previous

    def _emit(self, new: NewEvent) -> None:
        try:
            stored = self._deps.events.append(self.id, new)
        except Exception:
            log.exception("session %s: storing a %s event failed", self.id, new.type)
            return
        self._deps.on_event(stored)

    def _now(self) -> datetime:
        return self._deps.now()

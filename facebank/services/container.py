"""The composition root: builds every long-lived object once from the settings."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from facebank.auth.clock import Clock, system_clock
from facebank.config import Settings
from facebank.observability.collectors import LiveState, LiveStateCollector
from facebank.observability.metrics import Metrics
from facebank.observability.sessions import NoSessions, SessionsProbe
from facebank.pipeline.executor import InferenceExecutor
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.auth_setup import AuthServices, build_auth
from facebank.services.calibration import CalibrationService, build_calibration
from facebank.services.duplicates import DuplicateCheck
from facebank.services.exporter import Exporter
from facebank.services.gallery import GalleryService
from facebank.services.import_jobs import ImportJobService
from facebank.services.importer import Importer
from facebank.services.index_sync import IndexManager
from facebank.services.negative_reembed import NegativeReembedder
from facebank.services.negative_search import NegativeAwareSearcher, NegativeCache
from facebank.services.negatives import NegativeService
from facebank.services.people_fix import PeopleFixService
from facebank.services.photos import EnrollRules
from facebank.services.recognition import RecognitionService
from facebank.services.sessions import ManagerProbe, SessionService, build_session_service
from facebank.services.unknown_setup import UnknownServices, build_unknowns
from facebank.services.vector_engine import vector_engine_index
from facebank.store.change_notify import ChangeListener, listens
from facebank.store.db import (
    database_kind,
    make_engine,
    make_session_factory,
    migrate,
    pool_status,
)
from facebank.store.import_jobs import ImportJobsRepository
from facebank.store.media import MediaStore
from facebank.store.negatives import NegativeRepository
from facebank.store.people import FaceRepository, PeopleRepository
from facebank.store.people_merge import PeopleFixRepository
from facebank.store.person_cache import DEFAULT_TTL_S, PersonCache

log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL_S = 30.0


@dataclass
class Services:
    settings: Settings
    engine: Engine
    pipeline: FacePipeline
    media: MediaStore
    faces: FaceRepository
    index: IndexManager
    gallery: GalleryService
    recognition: RecognitionService
    auth: AuthServices  # accounts, API keys, authentication, audit (issue 3)
    # Issue 4: CPU-bound work runs on the executor's lanes (facebank.pipeline.executor);
    # metrics live in this container's own registry; the sessions manager replaces
    # sessions_probe so /health/detailed and /metrics can see it.
    executor: InferenceExecutor
    metrics: Metrics
    sessions: SessionService  # live camera sessions (issue 5)
    exporter: Exporter  # the whole gallery as one archive (issue 11)
    imports: ImportJobService  # bulk imports uploaded over HTTP (issue 11)
    calibration: CalibrationService  # the match threshold measured from the gallery (issue 15)
    unknowns: UnknownServices  # kept unknown faces, their clusters and review (issue 12)
    negatives: NegativeService  # "not this person" labels, applied to every search (issue 12)
    people_fix: PeopleFixService  # merge and split people (issue 12 part 4)
    sessions_probe: SessionsProbe = field(default_factory=NoSessions)
    _stop: threading.Event = field(default_factory=threading.Event)
    _snapshotter: threading.Thread | None = None
    _follower: threading.Thread | None = None
    _listener: threading.Thread | None = None
    _unknown_upkeep: threading.Thread | None = None
    # Set by the PostgreSQL change listener: the follow loop runs at once, not at its poll.
    _wake: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """Bring derived state in line with the database, then keep snapshots fresh."""
        self.auth.warn_if_unclaimed()
        self.pipeline.observers.attach(self.metrics.pipeline)
        self.index.start()
        self.unknowns.keeper.start()
        swept = self.media.sweep(
            self.faces.all_media_refs()
            | self.unknowns.keeper.media_refs()
            | self.negatives.media_refs()
        )
        if swept:
            log.warning("removed %d media files left by an interrupted request", swept)
        self._snapshotter = threading.Thread(
            target=self._snapshot_loop, name="index-snapshot", daemon=True
        )
        self._snapshotter.start()
        if self.settings.index_follow_interval_s > 0:
            self._follower = threading.Thread(
                target=self._follow_loop, name="index-follow", daemon=True
            )
            self._follower.start()
            if listens(self.engine):
                listener = ChangeListener(self.engine, self._wake.set, self._stop)
                self._listener = threading.Thread(
                    target=listener.run, name="index-follow-listen", daemon=True
                )
                self._listener.start()
        if self.settings.unknown_flag_interval_s > 0:
            self._unknown_upkeep = threading.Thread(
                target=self._unknown_upkeep_loop, name="unknowns-upkeep", daemon=True
            )
            self._unknown_upkeep.start()
        self.sessions.resume()  # after the index: resumed cameras recognise at once
        self.imports.resume()  # after the media sweep: a resumed import's files are kept

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self.imports.close()  # stops between photos; the job resumes at the next start
        self.sessions.close()  # before the executor: camera frames run on it
        self.executor.close()
        self.pipeline.observers.detach(self.metrics.pipeline)
        for thread in (self._snapshotter, self._follower, self._listener, self._unknown_upkeep):
            if thread is not None:
                thread.join(timeout=10)
        self.index.save_if_dirty()
        self.index.close()
        self.engine.dispose()

    def _follow_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.settings.index_follow_interval_s)  # a poll, or a NOTIFY
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.index.follow()
            except Exception as exc:  # database away: /health/ready says so; retry later
                log.warning("index follow failed: %s", exc)

    def _unknown_upkeep_loop(self) -> None:
        while not self._stop.wait(self.settings.unknown_flag_interval_s):
            self.unknowns.upkeep.run_once()  # logs its own failures

    def _snapshot_loop(self) -> None:
        while not self._stop.wait(SNAPSHOT_INTERVAL_S):
            try:
                self.index.save_if_dirty()
            except Exception:  # keep serving; the next start repairs from the database
                log.exception("index snapshot failed")
            try:
                self.index.compact_log(self.settings.index_change_log_keep)
            except Exception as exc:  # database away: the next round compacts
                log.warning("compacting the gallery change log failed: %s", exc)
            try:
                self.auth.web_sessions.sweep_expired()
            except Exception as exc:  # database away: the next round sweeps
                log.warning("sweeping expired browser sessions failed: %s", exc)


def build_services(
    settings: Settings, pipeline: FacePipeline | None = None, clock: Clock = system_clock
) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(
        settings.effective_database_url, settings.db_pool_size, settings.db_max_overflow
    )
    migrate(engine)
    sessions = make_session_factory(engine)
    people_cache = PersonCache(settings.index_follow_interval_s or DEFAULT_TTL_S)
    people_cache.clear_on_commit(engine)
    people = PeopleRepository(sessions, people_cache)
    faces = FaceRepository(sessions)
    media = MediaStore(settings.media_dir)
    pipeline = pipeline or build_pipeline(settings)
    index = IndexManager(
        faces, pipeline.model_id, pipeline.dim, settings.index_dir, observer=pipeline.observers,
        sketch_threshold=settings.index_sketch_threshold,
        engine_index=vector_engine_index(settings, pipeline.model_id, pipeline.dim),
    )  # fmt: skip
    auth = build_auth(settings, sessions, clock)
    calibration = build_calibration(settings, sessions, faces, auth.audit, pipeline.model_id)
    negative_repo = NegativeRepository(sessions)
    negative_cache = NegativeCache(negative_repo, pipeline.model_id, settings.negatives_refresh_s)
    searcher = NegativeAwareSearcher(index, negative_cache, settings.negative_match)
    duplicates = DuplicateCheck(people, settings.duplicate_threshold)
    gallery = GalleryService(
        pipeline, people, faces, media, index, auth.audit,
        EnrollRules.from_settings(settings), duplicates,
        NegativeReembedder(pipeline, negative_repo, media, negative_cache),
    )  # fmt: skip
    negatives = NegativeService(
        pipeline, people, negative_repo, faces, media, auth.audit, negative_cache,
        settings.dominant_face_ratio,
    )  # fmt: skip
    unknowns = build_unknowns(
        settings, sessions, media, index, searcher, gallery, auth.audit,
        calibration.thresholds.current,
        pipeline.model_id, pipeline.dim, clock,
    )  # fmt: skip
    recognition = RecognitionService(
        pipeline, index, people, faces, calibration.thresholds,
        negatives=searcher, unknowns=unknowns.keeper, clock=clock,
    )  # fmt: skip
    executor = InferenceExecutor(pipeline.lanes)
    metrics = Metrics(stats_window_s=settings.stats_window_s)
    live_sessions = build_session_service(
        settings,
        sessions,
        pipeline,
        searcher,  # live sessions honour "not this person" labels too
        people,
        lambda work: executor.submit(work).result(),
        metrics.sessions,
        auth.audit,
        calibration.thresholds.current,
        database_kind(engine),
        clock,
        unknowns=unknowns.keeper,  # unknown tracks' faces, kept and clustered (issue 12)
    )
    importer = Importer(settings, people, faces, media, duplicates, lambda _model, _dim: index)
    imports = ImportJobService(settings, ImportJobsRepository(sessions), importer, index.follow)
    services = Services(
        settings,
        engine,
        pipeline,
        media,
        faces,
        index,
        gallery,
        recognition,
        auth,
        executor=executor,
        metrics=metrics,
        sessions=live_sessions,
        exporter=Exporter(sessions, media, pipeline.model_id),
        imports=imports,
        calibration=calibration,
        unknowns=unknowns,
        negatives=negatives,
        people_fix=PeopleFixService(PeopleFixRepository(sessions), faces, index, auth.audit),
        sessions_probe=ManagerProbe(live_sessions.manager),
    )
    services.metrics.describe_build(pipeline.model_id)
    services.metrics.watch(LiveStateCollector(_live_state(services)))
    return services


def _live_state(services: Services) -> LiveState:
    index = services.index
    return LiveState(
        index_size=lambda: index.size,
        index_kind="faiss-flat-ip" if services.settings.index_backend == "faiss" else "pgvector",
        pool=lambda: pool_status(services.engine),
        executor=services.executor.stats,
        # Read through the container, so a probe installed later is the one asked.
        sessions=lambda: services.sessions_probe.snapshot(),
    )

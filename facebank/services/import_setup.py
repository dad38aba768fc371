"""Builds an Importer (and a Restorer) over the configured database and media, as the CLI
needs them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine

from facebank.auth.clock import system_clock
from facebank.config import Settings
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.audit import AuditService
from facebank.services.duplicates import DuplicateCheck
from facebank.services.importer import Importer
from facebank.services.index_sync import IndexManager
from facebank.services.restore import Restorer
from facebank.store.audit import AuditRepository
from facebank.store.db import make_engine, make_session_factory, migrate
from facebank.store.media import MediaStore
from facebank.store.people import FaceRepository, PeopleRepository
from facebank.store.tx import SessionFactory


@dataclass(frozen=True)
class _Parts:
    sessions: SessionFactory
    media: MediaStore
    audit: AuditService


@contextmanager
def _opened(settings: Settings) -> Iterator[_Parts]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine: Engine = make_engine(settings.effective_database_url, pool_size=2, max_overflow=2)
    try:
        migrate(engine)
        sessions = make_session_factory(engine)
        # The audit log alone: the rest of build_auth (the accounts' password hasher's
        # argon2 warm-up, the server secret) cost a restore ~0.3 s and is never used here.
        audit = AuditService(AuditRepository(sessions), system_clock)
        yield _Parts(sessions, MediaStore(settings.media_dir), audit)
    finally:
        engine.dispose()


def _importer(settings: Settings, parts: _Parts) -> Importer:
    people, faces = PeopleRepository(parts.sessions), FaceRepository(parts.sessions)

    def open_index(model_id: str, dim: int) -> IndexManager:
        """The gallery's index as a starting server builds it (its snapshot when that
        matches the database), for the duplicate check."""
        index = IndexManager(
            faces, model_id, dim, settings.index_dir,
            sketch_threshold=settings.index_sketch_threshold,
        )  # fmt: skip
        index.start()
        return index

    duplicates = DuplicateCheck(people, settings.duplicate_threshold)
    return Importer(settings, people, faces, parts.media, duplicates, open_index)


@contextmanager
def open_importer(settings: Settings) -> Iterator[Importer]:
    """An Importer on the settings' database (migrated first) and media store. Only the
    parent process holds connections: the workers never touch the database."""
    with _opened(settings) as parts:
        yield _importer(settings, parts)


@contextmanager
def open_restorer(
    settings: Settings, model_id: str, pipeline: FacePipeline | None = None
) -> Iterator[Restorer]:
    """A Restorer of archives into the settings' gallery, for the running model `model_id`.
    `pipeline` (else one built from the settings, only should the re-embed path have a
    label to embed again) embeds the archive's labels."""

    def labels_pipeline() -> FacePipeline:
        return pipeline or build_pipeline(settings, narrow_lanes=0)

    with _opened(settings) as parts:
        importer = _importer(settings, parts)
        yield Restorer(
            settings, parts.sessions, parts.media, parts.audit, importer, model_id, labels_pipeline
        )

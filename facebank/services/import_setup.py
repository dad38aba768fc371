"""Builds an Importer over the configured database and media, as the CLI needs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from facebank.auth.clock import system_clock
from facebank.config import Settings
from facebank.services.auth_setup import build_auth
from facebank.services.importer import Importer
from facebank.store.db import make_engine, make_session_factory, migrate
from facebank.store.media import MediaStore
from facebank.store.people import FaceRepository, PeopleRepository


@contextmanager
def open_importer(settings: Settings) -> Iterator[Importer]:
    """An Importer on the settings' database (migrated first) and media store. Only the
    parent process holds connections: the workers never touch the database."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url, pool_size=2, max_overflow=2)
    try:
        migrate(engine)
        sessions = make_session_factory(engine)
        audit = build_auth(settings, sessions, system_clock).audit
        yield Importer(
            settings,
            PeopleRepository(sessions),
            FaceRepository(sessions),
            MediaStore(settings.media_dir),
            audit,
        )
    finally:
        engine.dispose()

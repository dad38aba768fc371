"""Account services over a fresh database of each kind, without loading any models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from facebank.auth.clock import Clock
from facebank.config import Settings
from facebank.services.auth_setup import AuthServices, build_auth
from facebank.store.db import make_engine, make_session_factory, migrate
from tests.dbservers import fresh_database

BACKENDS = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@contextmanager
def auth_stack(
    kind: str, data_dir: Path, clock: Clock, **overrides: Any
) -> Iterator[tuple[AuthServices, Engine]]:
    """Migrated fresh database + the auth services built as the container builds them."""
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(kind))
        settings = Settings(_env_file=None, data_dir=data_dir, database_url=url, **overrides)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        migrate(engine)
        yield build_auth(settings, make_session_factory(engine), clock), engine

"""Store fixtures, parametrised over SQLite, MariaDB and PostgreSQL.

Each backend gets one freshly created, randomly named database per test run (dropped at the
end); tests share it and start from empty tables. A server that cannot be reached fails the
tests that need it, naming the service and URL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from facebank.store.db import make_engine, make_session_factory, migrate
from facebank.store.people import FaceRepository, PeopleRepository
from tests.dbservers import BackendKind, DatabaseServerUnavailable, fresh_database

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A brand-new database for this test alone (migration tests)."""
    yield from _database(request.param)


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    for url in _database(request.param):
        engine = make_engine(url, pool_size=10, max_overflow=10)
        try:
            migrate(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Engine:
    """The backend's migrated database with empty tables."""
    with migrated_engine.begin() as conn:
        conn.execute(text("DELETE FROM faces"))
        conn.execute(text("DELETE FROM people"))
    return migrated_engine


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def people(sessions: sessionmaker[Session]) -> PeopleRepository:
    return PeopleRepository(sessions)


@pytest.fixture
def faces(sessions: sessionmaker[Session]) -> FaceRepository:
    return FaceRepository(sessions)


def _database(kind: BackendKind) -> Iterator[str]:
    failure: str | None = None
    try:
        with fresh_database(kind) as url:
            yield url
    except DatabaseServerUnavailable as exc:
        failure = str(exc)
    if failure is not None:
        # Outside the except block, so the report shows only this message. Never a skip:
        # a missing server must not let the suite look green.
        pytest.fail(failure, pytrace=False)

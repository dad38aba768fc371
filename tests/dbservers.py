"""Throwaway databases on the local test servers, shared by store and API integration tests.

`fresh_database(kind)` yields the URL of a new, randomly named, empty database and drops it
afterwards, so test runs never see each other's rows. Server URLs come from
FACEBANK_TEST_MYSQL_URL / FACEBANK_TEST_POSTGRES_URL; an unreachable server is an error that
names the service and URL (tests must fail, not skip, when a backend is missing).
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from facebank.store.db import normalize_url

BackendKind = Literal["sqlite", "mysql", "postgresql"]
BACKENDS: tuple[BackendKind, ...] = ("sqlite", "mysql", "postgresql")

DEFAULT_MYSQL_URL = "mysql+pymysql://root@127.0.0.1:3306"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432"
# The database the PostgreSQL admin connection opens when the URL names none.
POSTGRES_ADMIN_DB = "test"
_SERVICE_NAME = {"mysql": "MariaDB/MySQL", "postgresql": "PostgreSQL"}
_ENV_VAR = {"mysql": "FACEBANK_TEST_MYSQL_URL", "postgresql": "FACEBANK_TEST_POSTGRES_URL"}


class DatabaseServerUnavailable(RuntimeError):
    """The test server for a backend could not be reached or refused to create a database."""


def backend_urls() -> dict[str, str]:
    """Server URLs (no database part needed) for the networked backends."""
    return {
        "mysql": os.environ.get(_ENV_VAR["mysql"], DEFAULT_MYSQL_URL),
        "postgresql": os.environ.get(_ENV_VAR["postgresql"], DEFAULT_POSTGRES_URL),
    }


def _admin_engine(kind: str, server: URL) -> Engine:
    if kind == "postgresql":
        admin = server.set(database=server.database or POSTGRES_ADMIN_DB)
        return create_engine(
            admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5}
        )
    return create_engine(
        server.set(database=None),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )


def _unavailable(kind: str, server: URL, exc: Exception) -> DatabaseServerUnavailable:
    shown = server.render_as_string(hide_password=True)
    return DatabaseServerUnavailable(
        f"{_SERVICE_NAME[kind]} test server at {shown} is not usable ({exc.__class__.__name__}: "
        f"{str(exc).splitlines()[0]}). Start it, or point {_ENV_VAR[kind]} at a server "
        "where this user may CREATE DATABASE."
    )


@contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """Yield the URL of a new empty database of `kind` ("sqlite", "mysql", "postgresql");
    drop it on exit. Raises DatabaseServerUnavailable, naming service and URL, when the
    server cannot be used."""
    if kind not in BACKENDS:
        raise ValueError(f"unknown database kind {kind!r}; expected one of {BACKENDS}")
    if kind == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="facebank-test-"))
        try:
            yield f"sqlite:///{directory / 'facebank.db'}"
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return

    # normalize_url: a plain mysql:// or postgres:// override gets the bundled driver.
    server = normalize_url(backend_urls()[kind])
    name = f"fb_test_{secrets.token_hex(6)}"
    admin = _admin_engine(kind, server)
    try:
        try:
            with admin.connect() as conn:
                if kind == "mysql":
                    conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
                else:
                    conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8'"))
        except DBAPIError as exc:  # unreachable, bad credentials, or no CREATE privilege
            raise _unavailable(kind, server, exc) from exc
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                if kind == "mysql":
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
                else:
                    # FORCE: a leaked pooled connection must not keep the database alive.
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()

"""Transactions for the repositories: one unit of work per call, committed or rolled back.

Writes run as `fn(session)` so a deadlock or serialisation failure (which the database
resolves by aborting one transaction) can be retried from the start. A database that cannot
be reached (refused, dropped mid-transaction, no pooled connection in time) raises
DatabaseUnavailableError, which the API answers with 503 and Retry-After; nothing is retried
here, so a request fails fast while the database is away.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Executable, Row
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from facebank.errors import DatabaseUnavailableError
from facebank.store.db import SQLITE_BEGIN_OPTION

T = TypeVar("T")
log = logging.getLogger(__name__)

WRITE_ATTEMPTS = 4
# MySQL: 1213 deadlock, 1205 lock wait timeout. PostgreSQL: serialization failure, deadlock.
_MYSQL_TRANSIENT = {1213, 1205}
_PG_TRANSIENT = {"40001", "40P01"}

# What a client is told to wait before retrying while the database is away.
RETRY_AFTER_S = 2

# Bound on IN (...) lists: stays far below every backend's parameter limit.
IN_CHUNK = 1000

SessionFactory = sessionmaker[Session]


def run_write(session_factory: SessionFactory, fn: Callable[[Session], T]) -> T:
    """Run `fn` in a write transaction and commit; retry on transient lock conflicts."""
    with unavailable_as_error():
        return _run_write(session_factory, fn)


def _run_write(session_factory: SessionFactory, fn: Callable[[Session], T]) -> T:
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        with session_factory() as session:
            # Must come before the first statement: it decides how SQLite's BEGIN is issued.
            session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            try:
                result = fn(session)
                session.commit()
                return result
            except DBAPIError as exc:
                session.rollback()
                if attempt == WRITE_ATTEMPTS or not is_transient(exc):
                    raise
                log.info("retrying transaction after %s (attempt %d)", exc.orig, attempt)
            except BaseException:
                session.rollback()
                raise
        # Jitter so that deadlocked writers do not collide again; not a secret.
        time.sleep(random.uniform(0.01, 0.05) * attempt)  # noqa: S311
    raise AssertionError("unreachable")


def run_read_rows(
    session_factory: SessionFactory, statement: Executable, params: Mapping[str, Any]
) -> list[Row[Any]]:
    """One Core statement on a pooled connection, without an ORM session: the recognise
    path's lookups, where the session's own bookkeeping cost ~0.8 ms a call (docs/bench.md).
    Returning the connection to the pool rolls its transaction back."""
    engine = session_factory.kw["bind"]
    with unavailable_as_error(), engine.connect() as connection:
        return list(connection.execute(statement, params))


def run_read(session_factory: SessionFactory, fn: Callable[[Session], T]) -> T:
    """Run `fn` in a short read transaction (ended before returning; nothing is held)."""
    with unavailable_as_error(), session_factory() as session:
        try:
            return fn(session)
        finally:
            session.rollback()


@contextmanager
def unavailable_as_error() -> Iterator[None]:
    """The driver's connection-level failures as DatabaseUnavailableError. OperationalError
    and InterfaceError are what every driver raises for a refused or dropped connection
    (SQL mistakes and constraint violations are other classes); a lock conflict left after
    the retries is one too, and "try again shortly" is the right answer to it as well."""
    try:
        yield
    except (OperationalError, InterfaceError, PoolTimeoutError) as exc:
        cause = exc.orig if isinstance(exc, DBAPIError) else exc
        raise DatabaseUnavailableError(
            f"the database cannot be reached: {type(cause).__name__}",
            retry_after_s=RETRY_AFTER_S,
        ) from exc


def is_transient(exc: DBAPIError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _PG_TRANSIENT:
        return True
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    return bool(args) and args[0] in _MYSQL_TRANSIENT

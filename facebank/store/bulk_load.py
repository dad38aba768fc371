"""SQLite tuned for one bulk load: secondary indexes built after the rows rather than row by
row, and the rollback journal instead of WAL while the rows go in.

Inserting 100,000 faces into tables whose indexes are kept up to date on every row costs
more than inserting them bare and building each index once, sorted. SQLite's DDL is
transactional, so the indexes are dropped and created again inside the load's own
transaction: a crash or a failed load rolls back to the schema as it was, the same
indexes under the same names (those the migrations made, read from sqlite_master), and
the load can simply be run again. Other backends keep their indexes (MySQL's DDL would
commit the transaction).

Under WAL every page of a load is written twice: into the log, then by the checkpoint that
follows the commit (most of a 100,000-face commit). The rollback journal instead saves
only the pages that existed before the transaction, and pages appended past the file's end
(nearly all of a load into an empty gallery) are not journaled at all: written once. It
is as atomic (a crash leaves a hot journal, rolled back by the next connection), with
synchronous=FULL, which rollback mode needs to survive a power cut. Leaving WAL needs the
only connection to the database: when another (a running server) has it open, the load
simply stays under WAL, and WAL is set again after the load either way. (A larger page
cache for the load did not pay: 256 MB cost the insert more CPU than SQLite's 2 MB.)
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

from facebank.store.db import SQLITE_BUSY_TIMEOUT_MS

log = logging.getLogger(__name__)

_INDEXES = text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
    "AND tbl_name IN (SELECT value FROM json_each(:tables)) ORDER BY name"
)


@contextmanager
def indexes_after(connection: Connection, tables: Sequence[str]) -> Iterator[None]:
    """On SQLite, drop the tables' explicit indexes (not their unique constraints' own),
    let the caller insert, then create them again, all in the caller's transaction."""
    if connection.dialect.name != "sqlite":
        yield
        return
    indexes = list(connection.execute(_INDEXES, {"tables": json.dumps(list(tables))}))
    for name, _ in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in indexes:
        connection.exec_driver_sql(sql)


@contextmanager
def rollback_journal(engine: Engine) -> Iterator[bool]:
    """On a SQLite file, the load (run by the caller on this engine, in one transaction)
    under the rollback journal rather than WAL when no other connection has the database
    open; yields whether it is. WAL and the engine's pragmas are set again after."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        yield False
        return
    # Idle pooled connections hold the database open (in WAL): only ours may remain, the
    # one the load then checks out again (the pool hands back the connection it has).
    engine.dispose()
    switched = _pragmas(engine, [
        "PRAGMA busy_timeout=0",  # another connection: stay in WAL at once, never wait
        "PRAGMA journal_mode=DELETE",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "PRAGMA synchronous=FULL",
    ])  # fmt: skip
    try:
        yield switched
    finally:
        # synchronous last: should WAL fail (locked), rollback mode keeps FULL.
        _pragmas(engine, ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"])


def _pragmas(engine: Engine, pragmas: list[str]) -> bool:
    """Run the pragmas outside any transaction on a pooled connection; whether all ran
    (a database locked by another connection stops them, logged: the load stays in WAL)."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(pragma)
        finally:
            cursor.close()
        return True
    except sqlite3.OperationalError as exc:
        log.info("bulk load: %s: the database stays in WAL (%s)", pragma, exc)
        raw.cursor().execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        return False
    finally:
        raw.close()

"""SQLite's secondary indexes built after a bulk load rather than row by row.

Inserting 100,000 faces into tables whose indexes are kept up to date on every row costs
more than inserting them bare and building each index once, sorted. SQLite's DDL is
transactional, so the indexes are dropped and created again inside the load's own
transaction: a crash or a failed load rolls back to the schema as it was, the same
indexes under the same names (those the migrations made, read from sqlite_master), and
the load can simply be run again. Other backends keep their indexes (MySQL's DDL would
commit the transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, text

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

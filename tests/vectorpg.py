"""The vector-index tests' PostgreSQL 18 with pgvector (facebank/bench/vector_server.py
starts it), and a fresh database on it per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from facebank.bench.vector_server import DATABASE, VectorServerUnavailable, vector_server

__all__ = [
    "VectorServerUnavailable",
    "fresh_vector_database",
    "prefer_indexes",
    "vector_server",
]


@contextmanager
def fresh_vector_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server at `server_url`; yields its URL, then drops it."""
    name = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield server_url.replace(f"/{DATABASE}?", f"/{name}?")
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def prefer_indexes(url: str) -> None:
    """Make the planner of the database at `url` take an index whenever a query allows it.
    On a test-sized table it would rather scan and sort (cheaper, and exact) than walk the
    HNSW graph, so "through HNSW" would test the sequential scan; at ANN_THRESHOLD faces and
    up it picks the index by itself. Exact searches still work: they switch index scans
    off, leaving the sequential scan the only plan."""
    with psycopg.connect(url, autocommit=True) as conn:
        name = sql.Identifier(conn.info.dbname)
        conn.execute(sql.SQL("ALTER DATABASE {} SET enable_seqscan = off").format(name))

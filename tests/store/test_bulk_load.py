"""A SQLite bulk load under the rollback journal: switched only when the database is ours
alone, WAL again after, and a crash in the middle leaves the database as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, text

from facebank.store.bulk_load import rollback_journal
from facebank.store.db import make_engine, migrate

# A process that starts a load under the rollback journal and dies before its commit.
_CRASH = """
import os, sys
from sqlalchemy import text
from facebank.store.bulk_load import rollback_journal
from facebank.store.db import make_engine
engine = make_engine(sys.argv[1])
with rollback_journal(engine) as switched:
    assert switched
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO people (id, name, metadata, created_at, updated_at) "
                          "SELECT value, 'p' || value, '{}', '2026-01-01', '2026-01-01' "
                          "FROM json_each(:ids)"), {"ids": str(list(range(1, 5001)))})
        os._exit(3)  # no commit, no cleanup: as a kill would
"""


def _modes(engine: Engine) -> tuple[str, int]:
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = conn.exec_driver_sql("PRAGMA synchronous").scalar()
    return str(mode), int(synchronous or 0)


def _migrated(tmp_path: Path) -> tuple[str, Engine]:
    url = f"sqlite:///{tmp_path / 'bulk.db'}"
    engine = make_engine(url)
    migrate(engine)
    return url, engine


def test_the_load_runs_under_the_rollback_journal_and_wal_comes_back(tmp_path: Path) -> None:
    _, engine = _migrated(tmp_path)
    try:
        with rollback_journal(engine) as switched:
            assert switched
            assert _modes(engine) == ("delete", 2)  # FULL: rollback mode's power-cut safety
        assert _modes(engine) == ("wal", 1)
    finally:
        engine.dispose()


def test_another_connection_keeps_the_load_in_wal(tmp_path: Path) -> None:
    url, engine = _migrated(tmp_path)
    other = make_engine(url)  # a running server's
    try:
        with other.connect() as held:
            held.execute(text("SELECT count(*) FROM people")).scalar()
            with rollback_journal(engine) as switched:
                assert not switched
                assert _modes(engine)[0] == "wal"
        assert _modes(engine) == ("wal", 1)
    finally:
        other.dispose()
        engine.dispose()


def test_a_crash_during_the_load_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    url, engine = _migrated(tmp_path)
    engine.dispose()
    crashed = subprocess.run([sys.executable, "-c", _CRASH, url], check=False)
    assert crashed.returncode == 3
    assert (tmp_path / "bulk.db-journal").exists()  # hot: rolled back by the next reader
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM people")).scalar() == 0
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert _modes(engine) == ("wal", 1)
    finally:
        engine.dispose()

"""Engine construction, SQLite pragmas, health helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from facebank.errors import ValidationFailedError
from facebank.store.db import (
    check_connection,
    database_kind,
    make_engine,
    normalize_url,
    pool_status,
)


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("mysql://u:p@db:3306/fb", "mysql+pymysql"),
        ("mariadb://u@db/fb", "mysql+pymysql"),
        ("mysql+pymysql://u@db/fb", "mysql+pymysql"),
        ("postgres://u@db/fb", "postgresql+psycopg"),
        ("postgresql://u@db/fb", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/fb", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_plain_urls_map_to_bundled_drivers(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


def test_unsupported_url_is_refused() -> None:
    with pytest.raises(ValidationFailedError):
        make_engine("oracle://u@db/fb")


def test_server_engines_use_utf8mb4_and_a_checked_pool() -> None:
    mysql = make_engine("mysql://u@127.0.0.1:1/fb", pool_size=3, max_overflow=4)
    postgres = make_engine("postgres://u@127.0.0.1:1/fb", pool_size=3, max_overflow=4)
    assert mysql.url.query["charset"] == "utf8mb4"
    assert database_kind(mysql) == "mysql"
    assert database_kind(postgres) == "postgresql"
    for engine in (mysql, postgres):
        assert engine.pool._pre_ping
        assert engine.pool._recycle > 0
        assert pool_status(engine)["size"] == 3
        assert engine.pool._max_overflow == 4  # type: ignore[attr-defined]


def test_sqlite_file_engine_sets_pragmas_and_creates_directory(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'deep' / 'er' / 'fb.db'}")
    try:
        assert (tmp_path / "deep" / "er").is_dir()
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
            # Unicode-aware lower(), which SQLite's built-in lacks.
            assert conn.execute(text("SELECT lower('ĐẶNG ÅSE')")).scalar() == "đặng åse"
        assert database_kind(engine) == "sqlite"
        check_connection(engine)
        assert pool_status(engine)["kind"] == "sqlite"
    finally:
        engine.dispose()


def test_sqlite_memory_engine_shares_one_database() -> None:
    engine = make_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_check_connection_raises_when_server_is_down() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(OperationalError):
        check_connection(engine)


def test_check_connection_on_each_backend(engine: Engine) -> None:
    check_connection(engine)
    status = pool_status(engine)
    assert status["kind"] == database_kind(engine)
    assert status["checked_out"] == 0

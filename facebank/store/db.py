"""Engines, sessions and schema migrations for SQLite, MySQL/MariaDB and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from facebank.errors import ValidationFailedError

DatabaseKind = Literal["sqlite", "mysql", "postgresql"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Our own name, so facebank can share a database with another Alembic-managed application.
VERSION_TABLE = "facebank_alembic_version"
# Execution option read by the SQLite "begin" hook: writers take the write lock up front.
SQLITE_BEGIN_OPTION = "facebank_sqlite_begin"
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PAGE_SIZE = 8192
# Below MySQL's default wait_timeout (8 h) and typical proxy idle limits.
POOL_RECYCLE_S = 1800

# Plain scheme names an admin may type, mapped to the drivers facebank ships with.
_DRIVER_FOR_SCHEME = {
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
}
_SUPPORTED_DRIVERS = {"sqlite", "sqlite+pysqlite", "mysql+pymysql", "postgresql+psycopg"}


def normalize_url(url: str | URL) -> URL:
    """Map `mysql://`, `postgres://` etc. to the bundled drivers; refuse anything else."""
    parsed = make_url(url) if isinstance(url, str) else url
    driver = _DRIVER_FOR_SCHEME.get(parsed.drivername, parsed.drivername)
    if driver not in _SUPPORTED_DRIVERS:
        raise ValidationFailedError(
            f"unsupported database URL scheme {parsed.drivername!r}: "
            "use sqlite:///path, mysql+pymysql://... or postgresql+psycopg://...",
        )
    return parsed.set(drivername=driver)


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, pool_size, max_overflow)
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return create_engine(
        parsed,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # A server restart or idle cut must not surface as a failed request.
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_S,
    )


def _sqlite_engine(url: URL, pool_size: int, max_overflow: int) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    if in_memory:
        # One shared connection, otherwise every pooled connection sees its own empty DB.
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (it would BEGIN lazily, DEFERRED
    # and only before DML); `_on_sqlite_begin` emits BEGIN itself.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # First, so that even switching to WAL waits for a busy database instead of failing.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Takes effect only on a database not yet created (a no-op afterwards), so before
        # WAL: a face row is ~2.2 KB with its embedding, one per 4 KB page but three per
        # 8 KB page: a third less file and bulk loads ~35% faster (measured in a restore).
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite; CASCADE needs it
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough under WAL, much faster
    finally:
        cursor.close()
    # SQLite's lower() only folds ASCII; names are often not ASCII ("Đặng", "Ørsted").
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


SqlValue = str | bytes | int | float | None


def _unicode_lower(value: SqlValue) -> SqlValue:
    return value.lower() if isinstance(value, str) else value


def _on_sqlite_begin(conn: Connection) -> None:
    # A DEFERRED transaction that reads and then writes fails at once with "database is
    # locked" (SQLITE_BUSY_SNAPSHOT, busy_timeout does not help) when another writer committed
    # in between, so write transactions ask for BEGIN IMMEDIATE and queue on busy_timeout.
    mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def database_kind(engine: Engine) -> DatabaseKind:
    name = engine.dialect.name
    if name == "sqlite":
        return "sqlite"
    if name in ("mysql", "mariadb"):
        return "mysql"
    if name == "postgresql":
        return "postgresql"
    raise ValidationFailedError(f"unsupported database dialect {name!r}")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Repositories hand out plain records after commit; nothing should reload lazily.
    return sessionmaker(bind=engine, expire_on_commit=False)


def check_connection(engine: Engine) -> None:
    """Round-trip to the database; raises the driver's error (wrapped by SQLAlchemy) if down."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar_one()


def pool_status(engine: Engine) -> dict[str, Any]:
    pool = engine.pool
    status: dict[str, Any] = {"kind": database_kind(engine), "pool": type(pool).__name__}
    if isinstance(pool, QueuePool):
        status.update(
            size=pool.size(),
            checked_in=pool.checkedin(),
            checked_out=pool.checkedout(),
            overflow=pool.overflow(),
        )
    return status


# --- migrations ---------------------------------------------------------------------------


_MIGRATE_LOCK = threading.Lock()


def alembic_config() -> Any:
    """Alembic configuration pointing at the migrations inside the installed package."""
    from alembic.config import Config  # deferred: only migrating code pays for the import

    config = Config()
    # configparser interpolation would read a literal "%" in the path as a placeholder.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def migrate(target: Engine | str) -> None:
    """Upgrade the schema to the newest revision. Safe to call on every start, and from
    several threads or processes at once."""
    from alembic import command

    engine = make_engine(target) if isinstance(target, str) else target
    try:
        # Alembic keeps the running migration in module globals (`alembic.context`), so one
        # process may only run one at a time; the database lock covers other processes.
        with _MIGRATE_LOCK, engine.connect() as conn, _migration_guard(conn):
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            conn.commit()
    finally:
        if isinstance(target, str):
            engine.dispose()


@contextmanager
def _migration_guard(conn: Connection) -> Iterator[None]:
    """Serialise concurrent migrators (several workers starting at once) per backend."""
    kind = database_kind(conn.engine)
    if kind == "postgresql":
        # Held until the migration transaction ends; PostgreSQL DDL is transactional.
        conn.execute(text("SELECT pg_advisory_xact_lock(7318265401)"))
        yield
    elif kind == "mysql":
        # MySQL DDL commits implicitly, so a session-level named lock does the serialising.
        got = conn.execute(text("SELECT GET_LOCK('facebank_migrate', 300)")).scalar()
        if got != 1:
            raise TimeoutError("another process holds the facebank migration lock")
        try:
            yield
        finally:
            conn.execute(text("SELECT RELEASE_LOCK('facebank_migrate')"))
            conn.commit()
    else:
        # Table rebuilds in SQLite batch migrations DROP the old table; with foreign keys on
        # that would cascade-delete child rows. The pragma only works outside a transaction,
        # hence the raw (autocommit) connection, and BEGIN IMMEDIATE excludes other writers.
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            yield
            violations = raw.execute("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise RuntimeError(f"migration left foreign key violations: {violations[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def head_revision() -> str | None:
    """The newest revision this code ships; ready when it equals `current_revision`."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()

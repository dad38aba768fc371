"""Column types that behave the same on SQLite, MySQL/MariaDB and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

# SQLite only auto-increments an `INTEGER PRIMARY KEY` (the rowid alias), never a BIGINT one,
# so ids are BIGINT on the servers and INTEGER (which is 64-bit there anyway) on SQLite.
IdType: TypeEngine[int] = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL: binary, comparable, indexable later. MariaDB's JSON is LONGTEXT with a
# json_valid() check, which SQLAlchemy's JSON type reads and writes transparently.
JsonType: TypeEngine[Any] = JSON().with_variant(postgresql.JSONB(), "postgresql")

# An integrator's key must match exactly everywhere; MySQL's default collation would make
# "A1" and "a1" the same key there only.
ExternalIdType: TypeEngine[str] = String(128).with_variant(
    mysql.VARCHAR(128, collation="utf8mb4_bin"), "mysql", "mariadb"
)

# Unbounded text: MySQL's TEXT stops at 64 KiB, so LONGTEXT there (an import's report).
LongText: TypeEngine[str] = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite and MySQL have no time zone in their datetime columns, so values are stored as naive
    UTC and get their tzinfo back on read; PostgreSQL keeps `timestamptz`. MySQL gets
    microseconds (DATETIME(6)) so ordering by time stays as fine-grained as elsewhere.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # A naive value is ambiguous; refusing it keeps every stored time truly UTC.
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def ExactString(length: int) -> TypeEngine[str]:
    """A string compared byte for byte everywhere (MySQL's default collation folds case)."""
    return String(length).with_variant(
        mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb"
    )

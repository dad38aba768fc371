"""Import jobs: bulk imports uploaded over HTTP and run in the background (issue 11).

Types are spelled out here rather than imported from facebank.store, so this revision keeps
meaning the same thing when the models change later.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
COUNTS = (
    "people_total",
    "photos_total",
    "photos_done",
    "people_created",
    "people_extended",
    "people_unchanged",
    "faces_added",
    "photos_already",
    "skipped",
)


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _long_text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("active", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_by_kind", sa.String(16), nullable=False),
        sa.Column("created_by_id", _id(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("options", _json(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("elapsed_s", sa.Double(), nullable=False),
        sa.Column("warmup_s", sa.Double(), nullable=False),
        sa.Column("report", _long_text(), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("started_at", _utc(), nullable=True),
        sa.Column("finished_at", _utc(), nullable=True),
        sa.Column("heartbeat_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
        sa.UniqueConstraint("active", name=op.f("uq_import_jobs_active")),
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("import_jobs")

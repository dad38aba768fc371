"""Gallery change log: a version per gallery change, for followers (issue 14 part 4).

Types are spelled out here rather than imported from facebank.store, so this revision keeps
meaning the same thing when the models change later.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    head = op.create_table(
        "gallery_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", _id(), nullable=False),
        sa.Column("compacted_through", _id(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gallery_head")),
        **MYSQL_OPTIONS,
    )
    op.bulk_insert(head, [{"id": 1, "version": 0, "compacted_through": 0}])
    op.create_table(
        "gallery_changes",
        sa.Column("version", _id(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("face_ids", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_gallery_changes")),
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("gallery_changes")
    op.drop_table("gallery_head")

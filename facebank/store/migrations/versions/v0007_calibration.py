"""Threshold calibrations: the match threshold measured from the gallery (issue 15).

Types are spelled out here rather than imported from facebank.store, so this revision keeps
meaning the same thing when the models change later. down_revision is 0005 until the
integrator chains it after 0006.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("target_far", sa.Double(), nullable=False),
        sa.Column("estimated_tar", sa.Double(), nullable=True),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("probes", sa.Integer(), nullable=False),
        sa.Column("excluded_pairs", sa.Integer(), nullable=False),
        sa.Column("applied_by", sa.String(100), nullable=False),
        sa.Column("applied_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calibrations")),
        **MYSQL_OPTIONS,
    )
    op.create_index("ix_calibrations_model_id_id", "calibrations", ["model_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_calibrations_model_id_id", table_name="calibrations")
    op.drop_table("calibrations")

"""Camera leases (issue 13): runner processes with a heartbeat, and which runner runs each
camera until when, so cameras spread over machines sharing one PostgreSQL/MariaDB.

Types are spelled out here rather than imported from facebank.store, so this revision keeps
meaning the same thing when the models change later.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
RUNNER_ID_MAX = 100


def _utc() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "session_runners",
        sa.Column("runner_id", sa.String(RUNNER_ID_MAX), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", _utc(), nullable=False),
        sa.Column("heartbeat_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("runner_id", name=op.f("pk_session_runners")),
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f("ix_session_runners_expires_at"), "session_runners", ["expires_at"])
    with op.batch_alter_table("session_cameras") as batch:
        batch.add_column(sa.Column("lease_owner", sa.String(RUNNER_ID_MAX), nullable=True))
        batch.add_column(sa.Column("lease_until", _utc(), nullable=True))
        batch.create_index(op.f("ix_session_cameras_lease_owner"), ["lease_owner"])


def downgrade() -> None:
    with op.batch_alter_table("session_cameras") as batch:
        batch.drop_index(op.f("ix_session_cameras_lease_owner"))
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
    op.drop_index(op.f("ix_session_runners_expires_at"), table_name="session_runners")
    op.drop_table("session_runners")

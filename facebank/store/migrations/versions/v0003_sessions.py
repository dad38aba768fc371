"""Live sessions: sessions, their cameras, events, per-person summary, webhook deliveries.

Types are spelled out here rather than imported from facebank.store, so this revision keeps
meaning the same thing when the models change later.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _exact(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length).with_variant(
        mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def _session_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"],
        ["live_sessions.id"],
        name=op.f(f"fk_{table}_session_id_live_sessions"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("key", _exact(128), nullable=False),
        sa.Column("active_key", _exact(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("cooldown_s", sa.Double(), nullable=False),
        sa.Column("roster", _json(), nullable=True),
        sa.Column("ends_at", _utc(), nullable=True),
        sa.Column("webhook_url", sa.String(2000), nullable=True),
        sa.Column("webhook_secret", sa.String(256), nullable=True),
        sa.Column("evidence", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("ended_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
        sa.UniqueConstraint("active_key", name=op.f("uq_live_sessions_active_key")),
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f("ix_live_sessions_key"), "live_sessions", ["key"])
    op.create_index("ix_live_sessions_status_id", "live_sessions", ["status", "id"])

    op.create_table(
        "session_cameras",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("session_id", _id(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("target_fps", sa.Double(), nullable=False),
        sa.Column("loop", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_cameras")),
        _session_fk("session_cameras"),
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f("ix_session_cameras_session_id"), "session_cameras", ["session_id"])

    op.create_table(
        "session_events",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("event_id", _exact(40), nullable=False),
        sa.Column("session_id", _id(), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("camera_id", _id(), nullable=True),
        sa.Column("person_id", _id(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("evidence", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_session_events_event_id")),
        _session_fk("session_events"),
        **MYSQL_OPTIONS,
    )
    op.create_index("ix_session_events_session_id_id", "session_events", ["session_id", "id"])
    op.create_index(
        "ix_session_events_session_id_person_id", "session_events", ["session_id", "person_id"]
    )

    op.create_table(
        "session_people",
        sa.Column("session_id", _id(), nullable=False),
        sa.Column("person_id", _id(), nullable=False),
        sa.Column("first_seen", _utc(), nullable=False),
        sa.Column("last_seen", _utc(), nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("best_score", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "person_id", name=op.f("pk_session_people")),
        _session_fk("session_people"),
        **MYSQL_OPTIONS,
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("session_id", _id(), nullable=False),
        sa.Column("event_row_id", _id(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("replay", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _utc(), nullable=False),
        sa.Column("lease_until", _utc(), nullable=True),
        sa.Column("deadline_at", _utc(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("delivered_at", _utc(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        _session_fk("webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["event_row_id"],
            ["session_events.id"],
            name=op.f("fk_webhook_deliveries_event_row_id_session_events"),
            ondelete="CASCADE",
        ),
        **MYSQL_OPTIONS,
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_session_id_id", "webhook_deliveries", ["session_id", "id"]
    )
    op.create_index(
        op.f("ix_webhook_deliveries_event_row_id"), "webhook_deliveries", ["event_row_id"]
    )

    op.create_table(
        "webhook_attempts",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("delivery_id", _id(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
            ondelete="CASCADE",
        ),
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f("ix_webhook_attempts_delivery_id"), "webhook_attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("session_people")
    op.drop_table("session_events")
    op.drop_table("session_cameras")
    op.drop_table("live_sessions")

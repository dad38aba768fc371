"""Unknown faces kept for review, their clusters, negative labels ("not this person") and a
session's opt-in to unknown-cluster webhooks (issue 12).

Types are spelled out here rather than imported from facebank.store, so this revision keeps
meaning the same thing when the models change later.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MYSQL_OPTIONS: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.types.TypeEngine[Any]:
    return sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _face_columns() -> list[sa.Column[Any]]:
    """What an unknown face and a negative label both keep of a face."""
    return [
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("box", _json(), nullable=False),
        sa.Column("landmarks", _json(), nullable=False),
    ]


def upgrade() -> None:
    head = op.create_table(
        "unknown_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", _id(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_head")),
        **MYSQL_OPTIONS,
    )
    op.bulk_insert(head, [{"id": 1, "version": 0}])
    op.create_table(
        "unknown_clusters",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("first_seen", _utc(), nullable=False),
        sa.Column("last_seen", _utc(), nullable=False),
        sa.Column("representative_face_id", _id(), nullable=True),
        sa.Column("person_id", _id(), nullable=True),
        sa.Column("match_person_id", _id(), nullable=True),
        sa.Column("match_score", sa.Double(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_clusters")),
        **MYSQL_OPTIONS,
    )
    op.create_index(
        "ix_unknown_clusters_status_last_seen", "unknown_clusters", ["status", "last_seen"]
    )
    op.create_index("ix_unknown_clusters_status_size", "unknown_clusters", ["status", "size"])
    op.create_table(
        "unknown_faces",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("cluster_id", _id(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("session_id", _id(), nullable=True),
        sa.Column("camera_id", _id(), nullable=True),
        sa.Column("camera_name", sa.String(100), nullable=True),
        *_face_columns(),
        sa.Column("det_score", sa.Double(), nullable=False),
        sa.Column("quality", _json(), nullable=False),
        sa.Column("media_ref", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(16), nullable=False),
        sa.Column("image_width", sa.Integer(), nullable=False),
        sa.Column("image_height", sa.Integer(), nullable=False),
        sa.Column("seen_at", _utc(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["unknown_clusters.id"],
            name=op.f("fk_unknown_faces_cluster_id_unknown_clusters"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unknown_faces")),
        **MYSQL_OPTIONS,
    )
    op.create_index("ix_unknown_faces_cluster_id_id", "unknown_faces", ["cluster_id", "id"])
    op.create_index(
        "ix_unknown_faces_session_id_camera_id", "unknown_faces", ["session_id", "camera_id"]
    )
    op.create_index(op.f("ix_unknown_faces_media_ref"), "unknown_faces", ["media_ref"])
    op.create_index(op.f("ix_unknown_faces_seen_at"), "unknown_faces", ["seen_at"])
    op.create_table(
        "negative_labels",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("person_id", _id(), nullable=False),
        *_face_columns(),
        sa.Column("media_ref", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(16), nullable=False),
        sa.Column("unknown_face_id", _id(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_negative_labels_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_negative_labels")),
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f("ix_negative_labels_person_id"), "negative_labels", ["person_id"])
    op.create_index(op.f("ix_negative_labels_media_ref"), "negative_labels", ["media_ref"])
    with op.batch_alter_table("live_sessions") as batch:
        batch.add_column(
            sa.Column("unknown_events", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("live_sessions") as batch:
        batch.drop_column("unknown_events")
    op.drop_table("negative_labels")
    op.drop_table("unknown_faces")
    op.drop_table("unknown_clusters")
    op.drop_table("unknown_head")

"""Initial schema: people and their faces.

Types are spelled out here rather than imported from facebank.store, so this revision keeps
meaning the same thing when the models change later.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql, postgresql

revision: str = "0001"
down_revision: str | None = None
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
    op.create_table(
        "people",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column(
            "external_id",
            sa.String(128).with_variant(
                mysql.VARCHAR(128, collation="utf8mb4_bin"), "mysql", "mariadb"
            ),
            nullable=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("gender", sa.String(32), nullable=True),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("external_id", name=op.f("uq_people_external_id")),
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f("ix_people_name"), "people", ["name"])

    op.create_table(
        "faces",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("person_id", _id(), nullable=False),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("box", _json(), nullable=False),
        sa.Column("landmarks", _json(), nullable=False),
        sa.Column("det_score", sa.Double(), nullable=False),
        sa.Column("quality", _json(), nullable=False),
        sa.Column("media_ref", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(16), nullable=False),
        sa.Column("image_width", sa.Integer(), nullable=False),
        sa.Column("image_height", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faces")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_faces_person_id_people"),
            ondelete="CASCADE",
        ),
        **MYSQL_OPTIONS,
    )
    op.create_index(op.f("ix_faces_person_id"), "faces", ["person_id"])
    op.create_index(op.f("ix_faces_media_ref"), "faces", ["media_ref"])
    op.create_index("ix_faces_model_id_id", "faces", ["model_id", "id"])


def downgrade() -> None:
    op.drop_table("faces")
    op.drop_table("people")

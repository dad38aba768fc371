"""Every person, face and "not this person" label of the gallery as plain rows, read in one
transaction snapshot.

The export must be consistent while the server writes: SQLite's read transaction is a
snapshot already; MySQL/MariaDB (InnoDB default) and PostgreSQL are asked for REPEATABLE
READ so that the people, faces and labels reads see the same moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facebank.store.tables import Face, NegativeLabel, Person
from facebank.store.tx import SessionFactory, run_read

PERSON_COLUMNS = ("id", "external_id", "name", "age", "gender", "address", "metadata")
FACE_COLUMNS = (
    "id", "person_id", "model_id", "embedding", "dim", "box", "landmarks", "det_score",
    "quality", "media_ref", "media_type", "image_width", "image_height",
)  # fmt: skip
NEGATIVE_COLUMNS = (
    "id", "person_id", "model_id", "embedding", "dim", "box", "landmarks", "media_ref",
    "media_type", "unknown_face_id", "created_by", "created_at",
)  # fmt: skip


@dataclass(frozen=True)
class GalleryDump:
    people: list[dict[str, Any]]
    faces: list[dict[str, Any]]
    negatives: list[dict[str, Any]] = field(default_factory=list)


def read_gallery(session_factory: SessionFactory) -> GalleryDump:
    def work(session: Session) -> GalleryDump:
        if session.get_bind().dialect.name != "sqlite":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        people_table, faces_table = Person.__table__, Face.__table__
        people = [
            dict(row._mapping)
            for row in session.execute(select(people_table).order_by(people_table.c.id))
        ]
        faces = [
            dict(row._mapping)
            for row in session.execute(select(faces_table).order_by(faces_table.c.id))
        ]
        labels_table = NegativeLabel.__table__
        labels = session.execute(select(labels_table).order_by(labels_table.c.id))
        return GalleryDump(
            [{c: p[c] for c in PERSON_COLUMNS} for p in people],
            [{c: f[c] for c in FACE_COLUMNS} for f in faces],
            [{c: row._mapping[c] for c in NEGATIVE_COLUMNS} for row in labels],
        )

    return run_read(session_factory, work)

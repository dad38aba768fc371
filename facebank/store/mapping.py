"""ORM rows <-> record dataclasses. Values are copied so records share nothing with a session."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from facebank.store.records import FaceRecord, NewFace, PersonFields
from facebank.store.tables import Face, Person


def face_record(row: Face) -> FaceRecord:
    return FaceRecord(
        id=row.id,
        person_id=row.person_id,
        model_id=row.model_id,
        box=[float(v) for v in row.box],
        landmarks=[[float(v) for v in point] for point in row.landmarks],
        det_score=float(row.det_score),
        quality=copy.deepcopy(row.quality),
        media_ref=row.media_ref,
        media_type=row.media_type,
        image_width=row.image_width,
        image_height=row.image_height,
        created_at=row.created_at,
    )


def person_row(fields: PersonFields, now: datetime) -> Person:
    return Person(
        external_id=fields.external_id,
        name=fields.name,
        age=fields.age,
        gender=fields.gender,
        address=fields.address,
        meta=copy.deepcopy(fields.metadata),
        created_at=now,
        updated_at=now,
    )


def face_row(person_id: int, face: NewFace, now: datetime) -> Face:
    return Face(
        person_id=person_id,
        model_id=face.model_id,
        embedding=face.embedding,
        dim=face.dim,
        box=list(face.box),
        landmarks=[list(point) for point in face.landmarks],
        det_score=face.det_score,
        quality=dict(face.quality),
        media_ref=face.media_ref,
        media_type=face.media_type,
        image_width=face.image_width,
        image_height=face.image_height,
        created_at=now,
    )


def insert_faces(
    session: Session, person_id: int, faces: Iterable[NewFace], now: datetime
) -> list[FaceRecord]:
    """Insert faces (flushed, so ids exist and constraint failures surface here)."""
    rows = [face_row(person_id, face, now) for face in faces]
    session.add_all(rows)
    session.flush()
    return [face_record(row) for row in rows]


"""Turns service results into API shapes."""

from __future__ import annotations

from typing import Any

from facebank.api import schemas
from facebank.pipeline.types import Detection, Face
from facebank.pipeline.types import Quality as QualityRecord
from facebank.services.recognition import Candidate, Recognition, Verification
from facebank.store.people import FaceRecord, PersonRecord


def person_out(person: PersonRecord) -> schemas.PersonOut:
    return schemas.PersonOut(
        id=person.id,
        external_id=person.external_id,
        name=person.name,
        age=person.age,
        gender=person.gender,
        address=person.address,
        metadata=person.metadata,
        face_count=person.face_count,
        created_at=person.created_at,
        updated_at=person.updated_at,
    )


def face_out(face: FaceRecord) -> schemas.FaceOut:
    return schemas.FaceOut(
        id=face.id,
        person_id=face.person_id,
        model_id=face.model_id,
        box=face.box,
        landmarks=face.landmarks,
        det_score=face.det_score,
        quality=schemas.Quality.model_validate(face.quality),
        image_width=face.image_width,
        image_height=face.image_height,
        media_type=face.media_type,
        created_at=face.created_at,
        image_url=f"/api/v1/faces/{face.id}/image",
    )


def geometry(detection: Detection, quality: QualityRecord) -> schemas.FaceGeometry:
    return schemas.FaceGeometry(
        box=[round(float(v), 2) for v in detection.box],
        landmarks=[[round(float(x), 2), round(float(y), 2)] for x, y in detection.landmarks],
        det_score=round(float(detection.score), 5),
        quality=schemas.Quality(
            face_px=quality.face_px, blur=quality.blur, yaw=quality.yaw, pitch=quality.pitch
        ),
    )


def _geometry_fields(detection: Detection, quality: QualityRecord) -> dict[str, Any]:
    return geometry(detection, quality).model_dump()


def face_geometry(face: Face) -> schemas.FaceGeometry:
    return geometry(face.detection, face.quality)


def embedded_face(face: Face) -> schemas.EmbeddedFace:
    return schemas.EmbeddedFace(
        **_geometry_fields(face.detection, face.quality),
        embedding=[float(v) for v in face.embedding],
    )


def match(candidate: Candidate) -> schemas.Match:
    return schemas.Match(
        person_id=candidate.person.id,
        name=candidate.person.name,
        external_id=candidate.person.external_id,
        score=round(candidate.score, 5),
        face_id=candidate.face_id,
    )


def recognition(result: Recognition, model_id: str) -> schemas.RecognizeResponse:
    faces = [
        schemas.RecognizedFaceOut(
            **_geometry_fields(item.face.detection, item.face.quality),
            match=match(item.match) if item.match else None,
            candidates=[match(c) for c in item.candidates],
        )
        for item in result.faces
    ]
    return schemas.RecognizeResponse(
        image=schemas.ImageSize(width=result.width, height=result.height),
        threshold=result.threshold,
        model_id=model_id,
        faces=faces,
    )


def verification(result: Verification) -> schemas.VerifyResponse:
    return schemas.VerifyResponse(
        match=result.match,
        score=round(result.score, 5),
        threshold=result.threshold,
        face_a=face_geometry(result.face_a),
        face_b=face_geometry(result.face_b) if result.face_b else None,
        person=person_out(result.person) if result.person else None,
        person_face_id=result.person_face_id,
    )

"""Service results whose shape differs from the API's: rounded geometry, matches, links.

Where a response has the shape of a record (PersonOut, IndexStatusOut) the route validates
the record itself (`model_validate`, from its attributes) instead.
"""

from __future__ import annotations

from typing import Any, Protocol

from facebank.api import schemas
from facebank.pipeline.types import Detection, Face
from facebank.pipeline.types import Quality as QualityRecord
from facebank.services.recognition import Candidate, Recognition, Verification
from facebank.store.people import FaceRecord, PersonRecord


def face_image_url(face_id: int) -> str:
    """Where the photo a face was enrolled from is downloaded (routes/faces)."""
    return f"/api/v1/faces/{face_id}/image"


def face_out(face: FaceRecord) -> schemas.FaceOut:
    """The stored face and where to download the photo it was enrolled from."""
    return schemas.FaceOut.model_validate({**vars(face), "image_url": face_image_url(face.id)})


def person_with_faces(person: PersonRecord, faces: list[FaceRecord]) -> schemas.PersonWithFaces:
    return schemas.PersonWithFaces.model_validate(
        {**dict(person), "faces": [face_out(face) for face in faces]}
    )


def geometry(detection: Detection, quality: QualityRecord) -> schemas.FaceGeometry:
    return schemas.FaceGeometry(**_geometry_fields(detection, quality))


def _geometry_fields(detection: Detection, quality: QualityRecord) -> dict[str, Any]:
    """FaceGeometry's fields, for the responses that extend it: validated once, by the
    response model that takes them (on every recognised face's path)."""
    rounded = detection.rounded()
    return {
        "box": rounded.box,
        "landmarks": rounded.landmarks,
        "det_score": rounded.score,
        "quality": quality.as_dict(),
    }


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


class _Sized(Protocol):
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...


def image_size(image: _Sized) -> schemas.ImageSize:
    return schemas.ImageSize(width=image.width, height=image.height)


def recognition(result: Recognition, model_id: str) -> schemas.RecognizeResponse:
    faces = [
        schemas.RecognizedFaceOut(
            **_geometry_fields(item.face.detection, item.face.quality),
            match=match(item.match) if item.match else None,
            candidates=[match(c) for c in item.candidates],
            unknown_face_id=item.kept.face_id if item.kept else None,
            unknown_cluster_id=item.kept.cluster_id if item.kept else None,
        )
        for item in result.faces
    ]
    return schemas.RecognizeResponse(
        image=image_size(result),
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
        person=schemas.PersonOut.model_validate(result.person) if result.person else None,
        person_face_id=result.person_face_id,
    )

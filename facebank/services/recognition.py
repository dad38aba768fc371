"""Use cases that read the gallery: recognize (1:N), verify (1:1), detect, embed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facebank.auth.clock import Clock, system_clock
from facebank.errors import NoFaceError, NotFoundError
from facebank.index.people import PersonHit
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import DecodedImage, Detection, Face, Quality
from facebank.services.index_sync import IndexManager
from facebank.services.negative_search import NegativeAwareSearcher
from facebank.services.thresholds import ThresholdSource
from facebank.sessions.unknown_sink import KeptUnknown, UnknownSighting, UnknownSink, crop_around
from facebank.store.people import FaceRepository, PeopleRepository, PersonRecord


@dataclass(frozen=True)
class Candidate:
    person: PersonRecord
    face_id: int
    score: float


@dataclass(frozen=True)
class RecognizedFace:
    face: Face
    match: Candidate | None  # None means "unknown": nobody scored above the threshold
    candidates: list[Candidate]
    kept: KeptUnknown | None = None  # kept for review (keep_unknown): its face and cluster


@dataclass(frozen=True)
class Recognition:
    width: int
    height: int
    threshold: float
    faces: list[RecognizedFace]


@dataclass(frozen=True)
class Verification:
    score: float
    threshold: float
    match: bool
    face_a: Face
    face_b: Face | None  # None when verifying against an enrolled person
    person: PersonRecord | None
    person_face_id: int | None


@dataclass(frozen=True)
class Analysis:
    image: DecodedImage
    faces: list[Face]


@dataclass(frozen=True)
class Detected:
    image: DecodedImage
    faces: list[tuple[Detection, Quality]]


class RecognitionService:
    def __init__(
        self,
        pipeline: FacePipeline,
        index: IndexManager,
        people: PeopleRepository,
        faces: FaceRepository,
        thresholds: ThresholdSource,
        negatives: NegativeAwareSearcher | None = None,
        unknowns: UnknownSink | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._clock = clock
        self._pipeline = pipeline
        self._unknowns = unknowns
        # Searches through the "not this person" labels when given (services/negatives.py).
        self._searcher: IndexManager | NegativeAwareSearcher = negatives or index
        self._negatives = negatives
        self._index = index
        self._people = people
        self._faces = faces
        self._thresholds = thresholds

    @property
    def model_id(self) -> str:
        """The model pack every embedding here comes from (reported with the results)."""
        return self._pipeline.model_id

    @property
    def dim(self) -> int:
        return self._pipeline.dim

    def recognize(
        self,
        data: bytes,
        top_k: int,
        threshold: float | None,
        max_faces: int,
        keep_unknown: bool = False,
    ) -> Recognition:
        threshold = self._thresholds.current() if threshold is None else threshold
        image, faces = self._pipeline.analyze(data, max_faces)
        hits = self._search([f.embedding for f in faces], top_k)
        people = self._people.get_many({h.person_id for row in hits for h in row})
        recognized = []
        for face, row in zip(faces, hits, strict=True):
            candidates = [
                Candidate(people[h.person_id], h.face_id, h.score)
                for h in row
                if h.person_id in people  # deleted between search and lookup
            ]
            best = candidates[0] if candidates and candidates[0].score >= threshold else None
            kept = self._keep(image, face) if keep_unknown and best is None else None
            recognized.append(RecognizedFace(face, best, candidates, kept))
        return Recognition(image.width, image.height, threshold, recognized)

    def verify_photos(self, data_a: bytes, data_b: bytes, threshold: float | None) -> Verification:
        threshold = self._thresholds.current() if threshold is None else threshold
        face_a = self._main_face(data_a, "a")
        face_b = self._main_face(data_b, "b")
        score = float(np.dot(face_a.embedding, face_b.embedding))
        return Verification(score, threshold, score >= threshold, face_a, face_b, None, None)

    def verify_person(self, data: bytes, person_id: int, threshold: float | None) -> Verification:
        threshold = self._thresholds.current() if threshold is None else threshold
        person = self._people.get(person_id)
        face_ids, vectors = self._faces.embeddings_for_person(person_id, self._index.model_id)
        if face_ids.size == 0:
            raise NotFoundError(
                f"person {person_id} has no faces enrolled with the current model",
                person_id=person_id,
            )
        face = self._main_face(data, "a")
        scores = vectors @ face.embedding
        best = int(np.argmax(scores))
        score = float(scores[best])
        matched = score >= threshold and not self._marked_not(person_id, face.embedding)
        return Verification(score, threshold, matched, face, None, person, int(face_ids[best]))

    def detect(self, data: bytes, max_faces: int) -> Detected:
        image = self._pipeline.decode(data)
        detections = self._pipeline.detect(image, max_faces)
        return Detected(image, self._pipeline.assess(image, detections))

    def embed(self, data: bytes, max_faces: int) -> Analysis:
        image, faces = self._pipeline.analyze(data, max_faces)
        return Analysis(image, faces)

    def _keep(self, image: DecodedImage, face: Face) -> KeptUnknown | None:
        """Hand an unmatched face to the review queue (issue 12)."""
        if self._unknowns is None:
            return None
        crop, moved = crop_around(image, face)
        return self._unknowns.keep(UnknownSighting(crop, moved, self._clock(), "recognize"))

    def _main_face(self, data: bytes, which: str) -> Face:
        """The largest face of a photo: verification compares one face per photo."""
        _, faces = self._pipeline.analyze(data, 1)
        if not faces:
            raise NoFaceError(f"no face was found in photo {which}", photo=which)
        return faces[0]

    def _search(self, embeddings: list[np.ndarray], top_k: int) -> list[list[PersonHit]]:
        if not embeddings:
            return []
        return self._searcher.search(np.stack(embeddings).astype(np.float32), top_k)

    def _marked_not(self, person_id: int, embedding: np.ndarray) -> bool:
        """The face is a near-duplicate of one marked "not this person"."""
        return self._negatives is not None and self._negatives.rejects(person_id, embedding)

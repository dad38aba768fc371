"""Keeping unknown faces (issue 12): store the crop, cluster the face, read the queue.

`UnknownService` is the `UnknownSink` the sessions and the recognise path hand unknown faces
to. Clustering happens inside the store's keep transaction (under the `unknown_head` lock):
this process's vectors first take in the faces other workers kept since (`take`), then the
new face's neighbours are looked up and `unknown_linker.assign` decides. The vectors are
built from the database at start and are derived data, like the gallery index.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.config import Settings
from facebank.index.unknown_linker import LinkRule, assign
from facebank.index.unknown_vectors import UnknownVectors
from facebank.pipeline.types import DecodedImage
from facebank.services.photos import new_face_record
from facebank.sessions.unknown_sink import KeptUnknown, UnknownSighting
from facebank.store.media import MediaStore
from facebank.store.paging import Page
from facebank.store.unknown_records import (
    ClusterFilter,
    ClusterOrder,
    ClusterSummary,
    NewUnknownFace,
    UnknownClusterRecord,
    UnknownFaceRecord,
)
from facebank.store.unknowns import Decision, UnknownRepository

log = logging.getLogger(__name__)

CROP_FORMAT = "jpeg"
BUILD_BATCH = 5000


def link_rule(settings: Settings) -> LinkRule:
    return LinkRule(
        link=settings.unknown_link,
        min_links=settings.unknown_min_links,
        neighbours=settings.unknown_neighbours,
    )


@dataclass(frozen=True)
class ClusterView:
    cluster: UnknownClusterRecord
    faces: list[UnknownFaceRecord]  # best first


@dataclass(frozen=True)
class CropImage:
    path: Path
    media_type: str


class _Clustering:
    """One keep's side of the store's transaction (facebank.store.unknowns.Clustering)."""

    def __init__(self, vectors: UnknownVectors, vector: NDArray[np.float32], rule: LinkRule):
        self._vectors = vectors
        self._vector = vector
        self._rule = rule

    def after_id(self) -> int:
        return self._vectors.max_id

    def take(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        if ids.size:  # no rows decode to shape (0, 0), which the vectors refuse
            self._vectors.add(ids, vectors)

    def neighbours(self) -> list[int]:
        ids, _ = self._vectors.neighbours(self._vector, self._rule.neighbours, self._rule.link)
        return [int(i) for i in ids]

    def gone(self, ids: list[int]) -> None:
        self._vectors.remove(np.array(ids, np.int64))

    def decide(self, neighbour_clusters: Sequence[int], sizes: Mapping[int, int]) -> Decision:
        chosen = assign(self._rule, neighbour_clusters, sizes)
        return chosen.cluster_id, tuple(chosen.merged)


class UnknownService:
    def __init__(
        self,
        repo: UnknownRepository,
        media: MediaStore,
        vectors: UnknownVectors,
        rule: LinkRule,
        model_id: str,
        jpeg_quality: int = 90,
    ) -> None:
        self._repo = repo
        self._media = media
        self._vectors = vectors
        self._rule = rule
        self._model_id = model_id
        self._jpeg_quality = jpeg_quality

    @property
    def vectors(self) -> UnknownVectors:
        return self._vectors

    def start(self) -> int:
        """Load every kept face of the running model into the vectors; returns how many."""
        while True:
            ids, vectors = self._repo.vectors_after(
                self._model_id, self._vectors.max_id, BUILD_BATCH
            )
            if not ids.size:
                return self._vectors.size
            self._vectors.add(ids, vectors)

    # --- UnknownSink ------------------------------------------------------------------------

    def keep(self, sighting: UnknownSighting) -> KeptUnknown | None:
        vector = np.ascontiguousarray(sighting.face.embedding, dtype=np.float32)
        ref = self._media.put(self._jpeg(sighting.crop.pixels), CROP_FORMAT)
        crop = DecodedImage(sighting.crop.pixels, CROP_FORMAT)
        new = NewUnknownFace(
            face=new_face_record(sighting.face, crop, ref, self._model_id),
            source=sighting.source,
            seen_at=sighting.seen_at,
            session_id=sighting.session_id,
            camera_id=sighting.camera_id,
            camera_name=sighting.camera_name,
        )
        try:
            kept = self._repo.keep(new, _Clustering(self._vectors, vector, self._rule))
        except Exception:
            self.release_media([ref])
            raise
        # After the commit; a keep meanwhile took it in from the database already (harmless).
        self._vectors.add(np.array([kept.face.id], np.int64), vector.reshape(1, -1))
        return KeptUnknown(kept.face.id, kept.face.cluster_id, kept.cluster_size, kept.created)

    # --- reads ------------------------------------------------------------------------------

    def clusters(
        self, criteria: ClusterFilter, order: ClusterOrder, offset: int, limit: int
    ) -> Page[ClusterSummary]:
        return self._repo.list_clusters(criteria, order, offset, limit)

    def cluster(self, cluster_id: int) -> ClusterView:
        faces = self._repo.cluster_faces(cluster_id)
        return ClusterView(self._repo.get_cluster(cluster_id), faces)

    def face(self, face_id: int) -> UnknownFaceRecord:
        return self._repo.get_face(face_id)

    def crop(self, face_id: int) -> CropImage:
        face = self._repo.get_face(face_id)
        return CropImage(self._media.path(face.media_ref), face.media_type)

    def media_refs(self) -> set[str]:
        """Files the kept unknowns (and negative labels) use: kept by the start's sweep."""
        return self._repo.all_media_refs()

    def enrollable_photo(self, face: UnknownFaceRecord) -> bytes:
        """The crop as a photo to enroll: the same pixels, losslessly as PNG, so its bytes
        (and media ref) differ from the crop's. The gallery then never shares a file with an
        unknown face, and its own releases (a failed enroll, a deleted face), which look at
        gallery faces only, can never delete a crop still in the queue."""
        pixels = cv2.imdecode(np.frombuffer(self._media.read(face.media_ref), np.uint8), 1)
        if pixels is None:
            raise OSError(f"the crop of unknown face {face.id} cannot be decoded")
        ok, data = cv2.imencode(".png", pixels)
        if not ok:
            raise OSError(f"PNG encoding of unknown face {face.id}'s crop failed")
        return bytes(data.tobytes())

    # --- forgetting -------------------------------------------------------------------------

    def forget(self, removed: Sequence[UnknownFaceRecord]) -> None:
        """After their rows went: drop the faces' vectors and the crops nothing else uses."""
        if not removed:
            return
        self._vectors.remove(np.array([f.id for f in removed], np.int64))
        self.release_media([f.media_ref for f in removed])

    def release_media(self, refs: Sequence[str]) -> None:
        for ref in sorted(set(refs)):
            try:
                if not self._repo.media_ref_in_use(ref):
                    self._media.delete(ref)
            except Exception as exc:  # the start's media sweep removes what is left
                log.warning("releasing unknown crop %s failed: %s", ref, exc)

    def _jpeg(self, pixels: NDArray[np.uint8]) -> bytes:
        ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, self._jpeg_quality])
        if not ok:
            raise OSError("JPEG encoding of an unknown face's crop failed")
        return bytes(data.tobytes())

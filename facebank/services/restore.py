"""Restores an export archive into an empty gallery: the fast path, or re-embedding.

When the archive was written under the running model pack, its rows go straight in
(store.gallery_load): people and faces with their ids, embeddings, boxes, landmarks,
quality and photos, and the "not this person" labels with theirs and their crops, no model
work at all. Every row is inserted in one transaction while two other threads copy the
photos (and the labels' crops) into the media store (content-addressed, each checked
against its hash) and build the index from the archive's embeddings; the transaction
commits only after the last photo is durable. Once the rows are committed the index is
checked against them and its snapshot saved, so a server starting on the restored gallery
loads it instead of rebuilding.

Crash safety: photos before the commit, so a committed face always has its photo; a crash before
the commit leaves the gallery empty (and a few unreferenced photos, which the next run
reuses and a media sweep would remove), so running the restore again simply redoes it. A
crash after the commit leaves the whole gallery: running again sees that it holds exactly
the archive's people and faces and only (re)builds the index. Any other non-empty gallery
is refused (GalleryNotEmptyError), with nothing written.

Under another model pack the embeddings are useless, so `reembed` enrolls every person
again from the archive's photos through the Importer (see restore_reembed), then embeds the
labels again from their crops, onto the re-enrolled people (see restore_labels).
A server on the restored gallery applies the labels: its NegativeCache rereads them when
their version (count, highest id, newest time) moves, at once when it starts.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from facebank.auth.principal import Principal
from facebank.config import Settings
from facebank.errors import ArchiveInvalidError, GalleryNotEmptyError
from facebank.index.gallery_index import GalleryIndex
from facebank.index.snapshot import StagedSnapshot, discard_snapshot
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.audit import Action, AuditService, Target
from facebank.services.export_archive import Archive
from facebank.services.import_archive import remove, unpack
from facebank.services.import_report import ImportSummary
from facebank.services.importer import Importer, Progress
from facebank.services.index_sync import IndexManager
from facebank.services.photos import FaceChoice
from facebank.services.restore_labels import LabelRestorer
from facebank.services.restore_reembed import archive_source, check_resumable, unpack_limits
from facebank.store.gallery_checks import face_rows, person_rows
from facebank.store.gallery_load import gallery_ids, load_gallery
from facebank.store.media import MediaStore, media_ref
from facebank.store.negative_checks import negative_rows
from facebank.store.people import FaceRepository, PeopleRepository
from facebank.store.tx import SessionFactory
from facebank.store.vectors import decode_embeddings

RESTORED = "restored"  # the archive's rows as they are
ALREADY = "already_restored"  # an earlier run committed them: nothing added
REEMBEDDED = "reembedded"  # enrolled again from the photos under the running model


@dataclass
class RestoreSummary:
    mode: str
    people: int = 0
    faces: int = 0
    photos: int = 0
    photos_missing: int = 0  # faces whose photo the archive did not hold
    index_size: int = 0
    elapsed_s: float = 0.0
    imported: ImportSummary | None = None  # the re-embed path's import counts and skips
    negatives: int = 0  # "not this person" labels restored
    negatives_reembedded: int = 0  # of those, embedded again from their crops
    negatives_skipped: list[dict[str, Any]] = field(default_factory=list)  # re-embed path
    crops_missing: int = 0  # labels whose crop the archive did not hold
    # Seconds per step of the fast path (check, insert, index_wait, index_save, and photos,
    # copied while the rows go in): what the restore bench reports.
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def faces_per_s(self) -> float:
        return self.faces / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_text(self) -> str:
        return (
            f"{self.mode}: {self.people} people, {self.faces} faces, {self.photos} photos "
            f"({self.photos_missing} missing) in {self.elapsed_s:.2f} s "
            f"({self.faces_per_s:,.0f} faces/s); index: {self.index_size} faces; "
            f"{self.negatives} 'not this person' labels ({self.negatives_reembedded} "
            f"re-embedded, {len(self.negatives_skipped)} skipped)"
        )


class Restorer:
    def __init__(
        self,
        settings: Settings,
        sessions: SessionFactory,
        media: MediaStore,
        audit: AuditService,
        importer: Importer,
        model_id: str,
        pipeline: Callable[[], FacePipeline],
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._media = media
        self._audit = audit
        self._importer = importer
        self._model_id = model_id
        # The re-embed path's labels only: built when one must be embedded again.
        self._labels = LabelRestorer(sessions, media, model_id, pipeline)

    @property
    def model_id(self) -> str:
        return self._model_id

    def run(
        self,
        actor: Principal,
        archive: Archive,
        summary: ImportSummary,
        workers: int,
        progress: Progress | None = None,
    ) -> RestoreSummary:
        """The fast path when the archive is of the running model, else the re-embed path."""
        if archive.model_id == self._model_id:
            return self.restore(actor, archive)
        return self.reembed(actor, archive, summary, workers, progress)

    def restore(self, actor: Principal, archive: Archive) -> RestoreSummary:
        """The fast path: the archive's rows as they are (its model must be the running one)."""
        started = time.monotonic()
        if archive.model_id != self._model_id:
            raise ArchiveInvalidError(
                f"the archive is of model {archive.model_id}, not {self._model_id}: re-embed it"
            )
        if self._already_restored(archive):
            summary = RestoreSummary(ALREADY)
            summary.index_size = self._install(self._index_of(archive))
        else:
            summary = self._load(archive)
        summary.elapsed_s = time.monotonic() - started
        self.record(actor, archive, summary)
        return summary

    def _load(self, archive: Archive) -> RestoreSummary:
        """Check the rows, then insert them while two other threads copy the photos and
        build the index (faiss, sqlite3, hashing and fsync all let go of the GIL); the load
        commits only once every photo is in, and the index is then checked against the
        committed rows and saved."""
        clock = _Phases()
        people = person_rows(archive.people)
        faces = face_rows(archive.faces, {p["id"] for p in people}, archive.embeddings)
        labels = negative_rows(archive.negatives, {p["id"] for p in people})
        summary = RestoreSummary(RESTORED, len(people), len(faces), phases=clock.lap("check"))
        summary.negatives = len(labels)
        with ThreadPoolExecutor(2, thread_name_prefix="restore") as pool:
            index = pool.submit(self._index_of, archive)
            photos = pool.submit(self._copy_photos, archive)
            try:
                load_gallery(
                    self._sessions, people, faces, before_commit=photos.result, negatives=labels
                )
            except BaseException:
                _discard(index)
                raise
            clock.lap("insert")  # photos copied meanwhile: a bad one rolled the load back
            copied = photos.result()
            summary.photos, summary.photos_missing = copied.photos, copied.photos_missing
            summary.crops_missing, summary.phases["photos"] = copied.crops_missing, copied.seconds
            built = index.result()
            clock.lap("index_wait")
        summary.index_size = self._install(built)
        clock.lap("index_save")
        return summary

    def build_index(self) -> int:
        """Build the running model's index from the database once and save its snapshot,
        which a starting server loads as it is (its face ids match the database's)."""
        faces = FaceRepository(self._sessions)
        dim = _dim_of(faces, self._model_id)
        if dim is None:
            return 0
        return self._index_manager(dim).rebuild().index_size

    def reembed(
        self,
        actor: Principal,
        archive: Archive,
        summary: ImportSummary,
        workers: int,
        progress: Progress | None = None,
    ) -> RestoreSummary:
        """Enroll the archive's people again from its photos under the running model,
        filling `summary` as an import does (so an interrupted caller has the skips)."""
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=".restore-", dir=self._settings.data_dir))
        try:
            unpacked = unpack(archive.path, work, *unpack_limits(archive.path))
            source = archive_source(archive, unpacked)
            check_resumable(PeopleRepository(self._sessions), source)
            # The archive holds what was enrolled, duplicates allowed then included.
            self._importer.run(
                actor, source, summary, workers, FaceChoice.AUTO, progress, allow_duplicate=True
            )
        finally:
            remove(work)
        labels = self._labels.run(archive, source)
        result = RestoreSummary(REEMBEDDED, summary.people_created, summary.faces_added)
        result.photos, result.imported = summary.photos_total, summary
        result.negatives, result.negatives_reembedded = labels.restored, labels.reembedded
        result.negatives_skipped = labels.skipped
        result.index_size = self.build_index()
        result.elapsed_s = time.monotonic() - started
        self.record(actor, archive, result)
        return result

    def _index_of(self, archive: Archive) -> _Built | None:
        """The index of the archive's own rows of the running model, without reading the
        embeddings back, and its snapshot staged (None when it has none: the index comes
        from the database). The snapshot is committed only by `_install`, once the index
        is found to hold exactly the committed faces."""
        ours = [f for f in archive.faces if f["model_id"] == self._model_id]
        if not ours:
            return None
        dim = int(ours[0]["dim"])
        vectors = _vectors(archive, ours, dim)
        face_ids = np.fromiter((f["id"] for f in ours), dtype=np.int64, count=len(ours))
        person_ids = np.fromiter((f["person_id"] for f in ours), dtype=np.int64, count=len(ours))
        manager = self._index_manager(dim)
        index = manager.build(face_ids, person_ids, vectors)
        return _Built(manager, index, manager.stage(index))

    def _install(self, built: _Built | None) -> int:
        """The built index, checked against the database (IndexManager.install) and saved
        (its staged snapshot committed)."""
        if built is None:
            return self.build_index()
        return built.manager.install(built.index, built.staged)

    def _index_manager(self, dim: int) -> IndexManager:
        """The index as the server builds it (same snapshot place and kind by size), so
        the snapshot saved here is the one a starting server loads."""
        return IndexManager(
            FaceRepository(self._sessions),
            self._model_id,
            dim,
            self._settings.index_dir,
            sketch_threshold=self._settings.index_sketch_threshold,
        )

    def record(self, actor: Principal, archive: Archive, summary: RestoreSummary) -> None:
        details: dict[str, Any] = {
            "archive": archive.path.name,
            "archive_model_id": archive.model_id,
            "mode": summary.mode,
            "people": summary.people,
            "faces": summary.faces,
            "photos": summary.photos,
            "negatives": summary.negatives,
        }
        self._audit.record(actor, Action.RESTORE, Target.GALLERY, None, details)

    def _already_restored(self, archive: Archive) -> bool:
        people, faces = gallery_ids(self._sessions)
        if not people:
            return False
        if people == {p.get("id") for p in archive.people} and faces == {
            f.get("id") for f in archive.faces
        }:
            return True
        raise GalleryNotEmptyError(
            f"the gallery already has people ({len(people)}): restore into an empty one",
            people=len(people),
        )

    def _copy_photos(self, archive: Archive) -> _Copied:
        """Copy each distinct photo, then each label's crop, into the media store."""
        started = time.perf_counter()
        photos = {(f["media_ref"], f["media_type"]) for f in archive.faces}
        copied, missing = self._copy(archive.photos(sorted(photos)), dict(photos), "photo")
        crops = {(n["media_ref"], n["media_type"]) for n in archive.negatives}
        _, crops_missing = self._copy(archive.crops(sorted(crops)), dict(crops), "crop")
        return _Copied(copied, missing, crops_missing, round(time.perf_counter() - started, 3))

    def _copy(
        self, files: Iterator[tuple[str, bytes | None]], types: dict[str, str], kind: str
    ) -> tuple[int, int]:
        """(copied, missing from the archive); each file checked against its hash."""
        copied = missing = 0
        for ref, data in files:
            if data is None:
                missing += 1
                continue
            if media_ref(data) != ref:
                raise ArchiveInvalidError(f"{kind} {ref} does not match its hash")
            if not self._media.exists(ref):
                self._media.put(data, types[ref])
            copied += 1
        return copied, missing


@dataclass(frozen=True)
class _Copied:
    photos: int
    photos_missing: int
    crops_missing: int
    seconds: float


@dataclass(frozen=True)
class _Built:
    """An index built from an archive, and its snapshot staged (not yet trusted)."""

    manager: IndexManager
    index: GalleryIndex
    staged: StagedSnapshot | None


def _discard(index: Future[_Built | None]) -> None:
    """Drop the staged snapshot of a load that failed (once the index thread is done)."""
    with contextlib.suppress(Exception):
        built = index.result()
        if built is not None and built.staged is not None:
            discard_snapshot(built.staged)


class _Phases:
    """Seconds since the last lap, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> dict[str, float]:
        now = time.perf_counter()
        self.seconds[name], self._last = round(now - self._last, 3), now
        return self.seconds


def _vectors(archive: Archive, ours: list[dict[str, Any]], dim: int) -> NDArray[np.float32]:
    """Our faces' embeddings as one (n, dim) array: the archive's own bytes, uncopied, when
    every face is ours (copying 200 MB a face at a time was a fifth of a restore)."""
    whole = len(ours) == len(archive.faces) and all(f["dim"] == dim for f in ours)
    if whole and len(archive.embeddings) == 4 * dim * len(ours):
        return np.frombuffer(archive.embeddings, dtype="<f4").reshape(len(ours), dim)
    return decode_embeddings([f["embedding"] for f in ours], [f["dim"] for f in ours])


def _dim_of(faces: FaceRepository, model_id: str) -> int | None:
    for _, _, vectors in faces.iter_embeddings(model_id, batch=1):
        return int(vectors.shape[1])
    return None

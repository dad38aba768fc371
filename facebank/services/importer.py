"""Bulk import: people and their photos from a source, on every core, safe to run again.

Idempotent and resumable by construction, with no import state of its own:
- a person is matched to an existing one by external id, else by name plus the source
  row it came from (metadata `import_origin`); a matched person is never modified, only
  given the photos they do not have yet;
- a photo is known by the sha256 of its bytes (the face's media_ref), so one the person
  already has is skipped before any model work;
- each person's new faces are committed in one transaction, people in source order.
So an interrupted run (Ctrl-C, a crash, SIGKILL) leaves whole people behind, and running
it again does exactly the work that was left: the result equals an uninterrupted import.

Every photo goes through the enrollment quality gate (in the workers, as the API's do) and,
unless the run allows duplicates, the duplicate check against the gallery's index (in the
parent, before the person's commit; faces this run committed are in the index too, so one
person under two names in one source is caught). A refused photo is reported as
`low_quality` or `duplicate_face` and the import goes on.

A person with some refused photos is enrolled with the good ones and the refused ones are
reported (running again retries them and refuses them again: nothing is added); a person
with no usable photo is not created. Writes go through the store's repositories, so a
server running on the same database takes the new faces into its index at its next
follow, and each is audited under the given (system) principal, as the API's are (here in
the transaction of the person's faces: an import has no index step to undo after it).

The workers only read and analyse; the parent writes. When a person's outcomes are all in,
it reads each photo to enroll again, checks that its bytes are still those analysed (a
photo changed meanwhile is reported as `changed_file`, one removed as `missing_file`) and
puts it into the media store, then commits the person's faces: the files exist before the
transaction that references them, so a crash between the two leaves only unreferenced
files, which the server's start-up sweep removes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facebank.auth.principal import Principal
from facebank.config import Settings
from facebank.errors import DuplicateFaceError, FacebankError, NotFoundError
from facebank.services.audit import Action, Target, audit_entry
from facebank.services.duplicates import DuplicateCheck
from facebank.services.enrolled import face_created, forget_unused_media
from facebank.services.import_report import CHANGED_FILE, MISSING_FILE, ImportSummary, Skipped
from facebank.services.import_sources import ORIGIN_KEY, SourcePerson
from facebank.services.import_workers import PhotoJob, PhotoOutcome, PhotoWorkers
from facebank.services.index_sync import IndexManager
from facebank.services.photos import FaceChoice
from facebank.store.audit import NewAuditEntry
from facebank.store.media import MediaStore
from facebank.store.people import (
    FaceRecord,
    FaceRepository,
    NewFace,
    PeopleRepository,
    PersonRecord,
)

DUPLICATE = "duplicate"
INVALID_ROW = "invalid_row"

Progress = Callable[[ImportSummary], None]
# The gallery's index for a model id and embedding size, opened at the first face to check.
IndexOpener = Callable[[str, int], IndexManager]


@dataclass
class _Pending:
    """A person whose photos are being analysed; committed once all outcomes are in."""

    person: SourcePerson
    existing: PersonRecord | None
    known_refs: frozenset[str]
    outcomes: list[PhotoOutcome] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return len(self.outcomes) == len(self.person.photos)


class Importer:
    def __init__(
        self,
        settings: Settings,
        people: PeopleRepository,
        faces: FaceRepository,
        media: MediaStore,
        duplicates: DuplicateCheck,
        open_index: IndexOpener,
    ) -> None:
        self._settings = settings
        self._people = people
        self._faces = faces
        self._media = media
        self._duplicates = duplicates
        self._open_index = open_index
        self._index: IndexManager | None = None

    def run(
        self,
        actor: Principal,
        source: list[SourcePerson],
        summary: ImportSummary,
        workers: int,
        choice: FaceChoice = FaceChoice.AUTO,
        progress: Progress | None = None,
        allow_duplicate: bool = False,
    ) -> ImportSummary:
        """Import `source` into the gallery, filling `summary` as it goes (so an
        interrupted caller still has the counts and skips so far). `allow_duplicate` skips
        the duplicate check (a restore puts back what was enrolled before)."""
        started = time.monotonic()
        summary.people_total = len(source)
        summary.photos_total = sum(len(p.photos) for p in source)
        pending: dict[int, _Pending] = {}
        order: list[int] = []  # people with jobs, in source order: the commit order
        committed = 0

        def tick() -> None:
            summary.elapsed_s = time.monotonic() - started
            if progress is not None:
                progress(summary)

        with PhotoWorkers(self._settings, workers, choice) as pool:
            jobs = self._jobs(source, pending, order, summary)
            for outcome in pool.analyse(jobs):
                if not summary.warmup_s:
                    summary.warmup_s = time.monotonic() - started
                pending[outcome.person].outcomes.append(outcome)
                summary.photos_done += 1
                while committed < len(order) and pending[order[committed]].complete:
                    work = pending.pop(order[committed])
                    self._commit(actor, work, summary, allow_duplicate)
                    committed += 1
                tick()
        tick()
        return summary

    # --- reading the source -----------------------------------------------------------------

    def _jobs(
        self,
        source: list[SourcePerson],
        pending: dict[int, _Pending],
        order: list[int],
        summary: ImportSummary,
    ) -> Iterator[PhotoJob]:
        """The photo jobs, person by person; refused rows are reported on the way. Lazy,
        so each person is matched just before their photos go to the workers."""
        first_row: dict[str, str] = {}
        for position, person in enumerate(source):
            refusal = self._refusal(person, first_row)
            if refusal is not None:
                summary.skipped.extend(refusal)
                summary.photos_done += len(person.photos)
                continue
            first_row[person.identity] = person.label
            existing = self._match(person)
            known = frozenset(f.media_ref for f in self._faces_of(existing))
            pending[position] = _Pending(person, existing, known)
            order.append(position)
            for photo in person.photos:
                yield PhotoJob(position, str(photo), known)

    def _refusal(self, person: SourcePerson, first_row: dict[str, str]) -> list[Skipped] | None:
        label = person.label
        if person.problem is not None:
            return [Skipped(label, "", INVALID_ROW, person.problem)]
        if person.identity in first_row:
            detail = f"the same person as {first_row[person.identity]}"
            return [Skipped(label, str(p), DUPLICATE, detail) for p in person.photos] or [
                Skipped(label, "", DUPLICATE, detail)
            ]
        if not person.photos:
            return [Skipped(label, "", MISSING_FILE, "no photos for this person")]
        return None

    def _match(self, person: SourcePerson) -> PersonRecord | None:
        fields = person.fields
        assert fields is not None  # rows with a problem never get here
        if fields.external_id is not None:
            try:
                return self._people.get_by_external_id(fields.external_id)
            except NotFoundError:
                return None
        # By the exact name the importer gave the person (the origin names the same row, so
        # the same name): one indexed read, where a search by name scans the whole gallery.
        for candidate in self._people.named(fields.name):
            if candidate.metadata.get(ORIGIN_KEY) == person.origin:
                return candidate
        return None

    def _faces_of(self, person: PersonRecord | None) -> list[FaceRecord]:
        return [] if person is None else self._faces.list_for_person(person.id)

    # --- writing one person -----------------------------------------------------------------

    def _commit(
        self, actor: Principal, work: _Pending, summary: ImportSummary, allow_duplicate: bool
    ) -> None:
        enrollable = self._enrollable(work, summary)
        if not allow_duplicate:
            enrollable = self._not_duplicates(work, enrollable, summary)
        new_faces = self._store_photos(work, enrollable, summary)
        if not new_faces:
            if work.existing is not None:
                summary.people_unchanged += 1
            return
        try:
            records = self._write(actor, work, new_faces)
        except FacebankError as exc:  # e.g. the person was deleted meanwhile: report, go on
            self._forget_media(new_faces)
            summary.skipped.append(Skipped(work.person.label, "", exc.code, exc.message))
            return
        self._index_faces(records, new_faces)
        summary.faces_added += len(records)
        if work.existing is None:
            summary.people_created += 1
        else:
            summary.people_extended += 1

    def _enrollable(self, work: _Pending, summary: ImportSummary) -> list[PhotoOutcome]:
        """The outcomes with a face to enroll, in photo order; every other photo is
        accounted."""
        label = work.person.label
        met: set[str] = set()  # the person's photos met so far in this run
        enrollable: list[PhotoOutcome] = []
        # Whose photos other people have: one read for the person's new photos.
        in_use = self._faces.media_refs_in_use(
            o.ref for o in work.outcomes if o.face is not None and o.ref is not None
        )
        for outcome in sorted(work.outcomes, key=lambda o: o.path):
            if outcome.skip is not None:
                summary.skipped.append(Skipped(label, outcome.path, outcome.skip, outcome.detail))
                continue
            assert outcome.ref is not None  # only unreadable photos have no hash
            if outcome.ref in met:
                detail = "the same photo as another of this person"
                summary.skipped.append(Skipped(label, outcome.path, DUPLICATE, detail))
            elif outcome.face is None:
                summary.photos_already += 1
            elif outcome.ref in in_use:
                detail = "this photo is already enrolled for another person"
                summary.skipped.append(Skipped(label, outcome.path, DUPLICATE, detail))
            else:
                enrollable.append(outcome)
            met.add(outcome.ref)
        return enrollable

    def _not_duplicates(
        self, work: _Pending, enrollable: list[PhotoOutcome], summary: ImportSummary
    ) -> list[PhotoOutcome]:
        """The outcomes whose face passes the duplicate check; the others are reported."""
        person_id = None if work.existing is None else work.existing.id
        kept = []
        for outcome in enrollable:
            assert outcome.face is not None  # enrollable outcomes have one
            try:
                index = self._index_for(outcome.face)
                self._duplicates.check(index, [_vector(outcome.face)], person_id)
            except DuplicateFaceError as exc:
                summary.skipped.append(
                    Skipped(work.person.label, outcome.path, exc.code, exc.message)
                )
                continue
            kept.append(outcome)
        return kept

    def _store_photos(
        self, work: _Pending, enrollable: list[PhotoOutcome], summary: ImportSummary
    ) -> list[NewFace]:
        """The faces whose photo is now in the media store. Each photo is read again and
        stored only if its bytes are those the worker analysed (the face's media_ref); a
        storage failure (e.g. a full disk) stops the import, as no photo could be kept."""
        stored = []
        for outcome in enrollable:
            face = outcome.face
            assert face is not None  # enrollable outcomes have one
            try:
                data = Path(outcome.path).read_bytes()
            except OSError as exc:
                reason, detail = MISSING_FILE, f"gone before its commit ({exc.strerror})"
            else:
                if self._media.put_if_ref(data, face.media_type, face.media_ref):
                    stored.append(face)
                    continue
                reason, detail = CHANGED_FILE, "the file changed while importing; import again"
            summary.skipped.append(Skipped(work.person.label, outcome.path, reason, detail))
        return stored

    def _index_for(self, face: NewFace) -> IndexManager:
        if self._index is None:
            self._index = self._open_index(face.model_id, face.dim)
        return self._index

    def _index_faces(self, records: list[FaceRecord], new_faces: list[NewFace]) -> None:
        """Committed faces go into the index at once, so later people are checked
        against them (a server's index takes them as its own enrollments do)."""
        if self._index is None or not records:
            return
        vectors = np.stack([_vector(face) for face in new_faces])
        self._index.add([r.id for r in records], [r.person_id for r in records], vectors)

    def _write(
        self, actor: Principal, work: _Pending, new_faces: list[NewFace]
    ) -> list[FaceRecord]:
        """One transaction for the person, all their new faces and the audit entries of
        each: a separate audit transaction cost as much again as the person's own."""

        def faces_created(records: list[FaceRecord]) -> list[NewAuditEntry]:
            return [face_created(actor, record) for record in records]

        def person_created(created: tuple[PersonRecord, list[FaceRecord]]) -> list[NewAuditEntry]:
            person, records = created
            entry = audit_entry(actor, Action.CREATE, Target.PERSON, person.id)
            return [entry, *faces_created(records)]

        if work.existing is not None:
            return self._faces.add(work.existing.id, new_faces, faces_created)
        assert work.person.fields is not None
        return self._people.create(work.person.fields, new_faces, person_created)[1]

    def _forget_media(self, new_faces: list[NewFace]) -> None:
        forget_unused_media(self._faces, self._media, (face.media_ref for face in new_faces))


def _vector(face: NewFace) -> np.ndarray:
    return np.frombuffer(face.embedding, dtype=np.float32)

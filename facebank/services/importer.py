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

A person with some refused photos is enrolled with the good ones and the refused ones are
reported (running again retries them and refuses them again: nothing is added); a person
with no usable photo is not created. Writes go through the store's repositories, so a
server running on the same database takes the new faces into its index at its next
follow, and each is audited under the given (system) principal, as the API's are.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from facebank.auth.principal import Principal
from facebank.config import Settings
from facebank.errors import FacebankError, NotFoundError
from facebank.services.audit import Action, AuditService, Target, audit_entry
from facebank.services.import_report import ImportSummary, Skipped
from facebank.services.import_sources import ORIGIN_KEY, SourcePerson
from facebank.services.import_workers import PhotoJob, PhotoOutcome, PhotoWorkers
from facebank.services.photos import FaceChoice
from facebank.store.media import MediaStore
from facebank.store.people import (
    FaceRecord,
    FaceRepository,
    NewFace,
    PeopleRepository,
    PersonFilter,
    PersonRecord,
)

DUPLICATE = "duplicate"
INVALID_ROW = "invalid_row"
MISSING_FILE = "missing_file"
_SEARCH_PAGE = 500

Progress = Callable[[ImportSummary], None]


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
        audit: AuditService,
    ) -> None:
        self._settings = settings
        self._people = people
        self._faces = faces
        self._media = media
        self._audit = audit

    def run(
        self,
        actor: Principal,
        source: list[SourcePerson],
        summary: ImportSummary,
        workers: int,
        choice: FaceChoice = FaceChoice.AUTO,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """Import `source` into the gallery, filling `summary` as it goes (so an
        interrupted caller still has the counts and skips so far)."""
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
                    self._commit(actor, pending.pop(order[committed]), summary)
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
        offset = 0
        while True:
            page = self._people.search(PersonFilter(name=fields.name), offset, _SEARCH_PAGE)
            for candidate in page.items:
                if candidate.metadata.get(ORIGIN_KEY) == person.origin:
                    return candidate
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return None

    def _faces_of(self, person: PersonRecord | None) -> list[FaceRecord]:
        return [] if person is None else self._faces.list_for_person(person.id)

    # --- writing one person -----------------------------------------------------------------

    def _commit(self, actor: Principal, work: _Pending, summary: ImportSummary) -> None:
        new_faces = self._new_faces(work, summary)
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
        summary.faces_added += len(records)
        if work.existing is None:
            summary.people_created += 1
        else:
            summary.people_extended += 1

    def _new_faces(self, work: _Pending, summary: ImportSummary) -> list[NewFace]:
        """The person's enrollable faces, in photo order; every other photo is accounted."""
        label = work.person.label
        met: set[str] = set()  # the person's photos met so far in this run
        new_faces: list[NewFace] = []
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
            elif self._faces.media_ref_in_use(outcome.ref):
                detail = "this photo is already enrolled for another person"
                summary.skipped.append(Skipped(label, outcome.path, DUPLICATE, detail))
            else:
                new_faces.append(outcome.face)
            met.add(outcome.ref)
        return new_faces

    def _write(
        self, actor: Principal, work: _Pending, new_faces: list[NewFace]
    ) -> list[FaceRecord]:
        """One transaction for the person and all their new faces, then the audit entries."""
        entries = []
        if work.existing is None:
            assert work.person.fields is not None
            person, records = self._people.create(work.person.fields, new_faces)
            entries.append(audit_entry(actor, Action.CREATE, Target.PERSON, person.id))
        else:
            records = self._faces.add(work.existing.id, new_faces)
        entries += [
            audit_entry(actor, Action.CREATE, Target.FACE, r.id, {"person_id": r.person_id})
            for r in records
        ]
        self._audit.record_many(entries)
        return records

    def _forget_media(self, new_faces: list[NewFace]) -> None:
        for face in new_faces:
            if not self._faces.media_ref_in_use(face.media_ref):
                self._media.delete(face.media_ref)

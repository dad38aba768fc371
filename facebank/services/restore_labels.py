"""The archive's "not this person" labels in a gallery restored under another model pack.

The re-embed path enrolls the people again, so they have new ids: each label goes to the
person of the same identity (external id, else import origin; see restore_reembed), and
is embedded again from its own crop, aligned by the landmarks it keeps (as
services/negative_reembed.py moves labels when a server's pack changes). Labels already of
the running model keep their embeddings. The crops go into the media store first, then
every label in one transaction (store.gallery_load.load_negatives): all or none, and a
second run of the same restore, finding labels there, adds none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from facebank.errors import ArchiveInvalidError, FacebankError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.export_archive import Archive
from facebank.services.import_sources import SourcePerson
from facebank.services.negative_reembed import embed_crop
from facebank.services.restore_reembed import gallery_identities
from facebank.store.gallery_load import load_negatives
from facebank.store.media import MediaStore, media_ref
from facebank.store.negative_checks import negative_rows
from facebank.store.people import PeopleRepository
from facebank.store.tx import SessionFactory

log = logging.getLogger(__name__)


@dataclass
class LabelsRestored:
    restored: int = 0
    reembedded: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)  # label id and why


class LabelRestorer:
    def __init__(
        self,
        sessions: SessionFactory,
        media: MediaStore,
        model_id: str,
        pipeline: Callable[[], FacePipeline],
    ) -> None:
        self._sessions = sessions
        self._media = media
        self._model_id = model_id
        self._build = pipeline  # called only when a label must be embedded again
        self._pipeline: FacePipeline | None = None

    def run(self, archive: Archive, source: list[SourcePerson]) -> LabelsRestored:
        """Move the archive's labels onto the re-enrolled people (`source`, in the order of
        the archive's people)."""
        done = LabelsRestored()
        if not archive.negatives:
            return done
        checked = negative_rows(archive.negatives, {p["id"] for p in archive.people})
        new_ids = self._new_person_ids(archive, source)
        crops = dict(archive.crops(sorted({(n["media_ref"], n["media_type"]) for n in checked})))
        rows = []
        for label in checked:
            person, crop = new_ids.get(label["person_id"]), crops.get(label["media_ref"])
            if person is None or crop is None:
                why = "person not restored" if person is None else "crop missing"
                done.skipped.append({"negative_id": label["id"], "reason": why})
                continue
            row = self._row(label, person, crop, done)
            if row is not None:
                rows.append(row)
        done.restored = load_negatives(self._sessions, rows) if rows else 0
        if not done.restored:
            done.reembedded = 0  # an earlier run put them in: nothing new
        return done

    def _row(
        self, label: dict[str, Any], person: int, crop: bytes, done: LabelsRestored
    ) -> dict[str, Any] | None:
        """The label as a new row of `person`, embedded by the running model, its crop
        stored; None (and a skip) when the running model cannot embed it."""
        if media_ref(crop) != label["media_ref"]:
            raise ArchiveInvalidError(f"crop {label['media_ref']} does not match its hash")
        row = {k: v for k, v in label.items() if k != "id"} | {"person_id": person}
        if label["model_id"] != self._model_id:
            self._pipeline = self._pipeline or self._build()
            try:
                face = embed_crop(self._pipeline, crop, label["box"], label["landmarks"])
            except FacebankError as exc:
                done.skipped.append({"negative_id": label["id"], "reason": exc.code})
                log.warning("negative label %d not re-embedded: %s", label["id"], exc.message)
                return None
            row |= {"model_id": face.model_id, "embedding": face.embedding, "dim": face.dim}
            done.reembedded += 1
        if not self._media.exists(label["media_ref"]):
            self._media.put(crop, label["media_type"])
        return row

    def _new_person_ids(self, archive: Archive, source: list[SourcePerson]) -> dict[int, int]:
        """The archive's person id -> the id its person has in the restored gallery."""
        in_gallery = gallery_identities(PeopleRepository(self._sessions))
        return {
            int(person["id"]): in_gallery[row.identity]
            for person, row in zip(archive.people, source, strict=True)
            if row.identity in in_gallery
        }

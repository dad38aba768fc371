"""An export archive of another model pack as an import source: each person of the archive
with the photos of their faces, unpacked to a work folder, for the Importer to enroll again.

The Importer's own guarantees then hold: people are matched by external id, else by name
plus `import_origin` (kept from the archive's metadata, or set to "<archive>#<person id>"
when the person has none), photos by content, so an interrupted re-embed continues when
run again. Photos the running model refuses are reported as an import reports them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from facebank.errors import GalleryNotEmptyError
from facebank.services.export_archive import Archive, photo_entry
from facebank.services.import_sources import ORIGIN_KEY, SourcePerson
from facebank.store.people import PeopleRepository, PersonFields, PersonFilter, PersonRecord

_PAGE = 500


def unpack_limits(archive: Path) -> tuple[int, int]:
    """(entries, bytes) of a checksum-verified archive: the unpack limits that fit it."""
    with zipfile.ZipFile(archive) as zipped:
        members = zipped.infolist()
        return len(members), sum(m.file_size for m in members)


def archive_source(archive: Archive, unpacked: Path) -> list[SourcePerson]:
    """The archive's people, in id order, each with their faces' photos under `unpacked`."""
    photos: dict[int, list[Path]] = {}
    for face in archive.faces:
        path = unpacked / photo_entry(face["media_ref"], face["media_type"])
        own = photos.setdefault(face["person_id"], [])
        if path not in own:  # two faces of one photo: enrolled once
            own.append(path)
    return [_source_person(archive, p, photos.get(p["id"], [])) for p in archive.people]


def _source_person(archive: Archive, person: dict[str, Any], photos: list[Path]) -> SourcePerson:
    metadata = dict(person.get("metadata") or {})
    origin = str(metadata.get(ORIGIN_KEY) or f"{archive.path.name}#{person['id']}")
    values = {k: v for k, v in person.items() if k not in ("id", "metadata")}
    fields = PersonFields(**values, metadata={**metadata, ORIGIN_KEY: origin})
    return SourcePerson(f"person {person['id']} ({person['name']})", origin, fields, tuple(photos))


def check_resumable(people: PeopleRepository, source: list[SourcePerson]) -> None:
    """Refuse a gallery holding anyone who is not one of the archive's people (an earlier,
    interrupted re-embed of this archive is the only gallery it continues)."""
    known = {person.identity for person in source}
    offset = 0
    while True:
        page = people.search(PersonFilter(), offset, _PAGE)
        strangers = [p for p in page.items if _identity(p) not in known]
        if strangers:
            raise GalleryNotEmptyError(
                f"the gallery has people who are not in the archive (person {strangers[0].id} "
                "and maybe more): restore into an empty gallery",
                people=page.total,
            )
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def gallery_identities(people: PeopleRepository) -> dict[str, int]:
    """Each person of the gallery by identity (as SourcePerson.identity names it): how the
    archive's labels find their re-enrolled people."""
    found: dict[str, int] = {}
    offset = 0
    while True:
        page = people.search(PersonFilter(), offset, _PAGE)
        found.update((_identity(p), p.id) for p in page.items)
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return found


def _identity(person: PersonRecord) -> str:
    if person.external_id is not None:
        return f"external_id:{person.external_id}"
    return f"origin:{person.metadata.get(ORIGIN_KEY)}"

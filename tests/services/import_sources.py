"""Import sources built from ../shared/faces, broken rows included, and a way to compare
what two imports left in their databases."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import text

from facebank.auth.principal import system_principal
from facebank.config import Settings
from facebank.services.import_setup import open_importer
from facebank.store.db import make_engine, make_session_factory
from facebank.store.people import FaceRepository, PeopleRepository, PersonFilter
from tests.api.conftest import make_settings
from tests.conftest import PEOPLE
from tests.dbservers import fresh_database

ACTOR = system_principal("tests-import")


def _copy(identity: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for photo in sorted((PEOPLE / identity).iterdir()):
        copied.append(Path(shutil.copy(photo, folder / photo.name)))
    return copied


def write_faceless(path: Path) -> Path:
    """A real, decodable image with no face in it: a smooth colour gradient."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(0, 255, 320, dtype=np.uint8)
    pixels = np.stack([np.tile(ramp, (240, 1))] * 3, axis=-1)
    Image.fromarray(pixels).save(path)
    return path


def write_corrupt(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff this is not really a JPEG")
    return path


def folder_source(root: Path) -> Path:
    """A folder per person. Good: Joe_Biden (2), Rose_Leslie (2), Kit_Harington (3),
    deepface_id11 (2). Broken: a duplicate and a corrupt photo for Joe Biden, a person
    whose only photo has no face, a folder with no photos."""
    source = root / "people"
    biden = _copy("fr_biden", source / "Joe_Biden")
    shutil.copy(biden[0], source / "Joe_Biden" / "zz_same_bytes.jpg")
    write_corrupt(source / "Joe_Biden" / "broken.jpg")
    _copy("fr_rose_leslie", source / "Rose_Leslie")
    _copy("fr_kit_harington", source / "Kit_Harington")
    _copy("deepface_id11", source / "deepface_id11")
    write_faceless(source / "Nobody_Here" / "wall.png")
    (source / "Empty_Folder").mkdir()
    (source / "Empty_Folder" / "notes.txt").write_text("not a photo")
    return source


# The seed system's layout: class_info.csv and a folder of photos per class_id beside it.
CLASS_INFO = """class_id,ten,tuoi,gioitinh,noio
1,Joe Biden,80,nam,Washington
2,Rose Leslie,36,nu,London
3,Missing Folder,20,nam,Nowhere
4,Bad Age,abc,nam,Somewhere
2,Rose Leslie Again,36,nu,London
5,No Face,30,nu,Hanoi
6,Kit Harington,36,nam,London
"""


def class_info_source(root: Path) -> Path:
    source = root / "seed"
    _copy("fr_biden", source / "1")
    _copy("fr_rose_leslie", source / "2")
    write_faceless(source / "5" / "wall.png")
    _copy("fr_kit_harington", source / "6")
    write_corrupt(source / "6" / "broken.jpg")
    table = source / "class_info.csv"
    table.write_text(CLASS_INFO, encoding="utf-8")
    return table


def jsonl_source(root: Path) -> Path:
    """JSON lines with the project's own column names changed (mapped with --map)."""
    source = root / "jsonl"
    kit = _copy("fr_kit_harington", source / "photos" / "kit")
    rows: list[Any] = [
        {
            "code": "K-1",
            "full_name": "Kit Harington",
            "pics": [f"photos/kit/{p.name}" for p in kit] + ["photos/kit/missing.jpg"],
            "team": "north",
        },
        {"code": "K-2", "full_name": "", "pics": []},
    ]
    lines = [json.dumps(row) for row in rows] + ["{not json"]
    table = source / "people.jsonl"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def gallery_state(people: PeopleRepository, faces: FaceRepository) -> list[tuple[Any, ...]]:
    """Everything an import decides, without ids or times: each person's fields and the
    photos (content hashes) of their faces."""
    state = []
    for person in people.search(PersonFilter(), 0, 10_000).items:
        refs = sorted(face.media_ref for face in faces.list_for_person(person.id))
        fields = (person.name, person.external_id, person.age, person.gender, person.address)
        state.append((*fields, json.dumps(person.metadata, sort_keys=True), tuple(refs)))
    return sorted(state, key=repr)


@dataclass
class Gallery:
    settings: Settings
    people: PeopleRepository
    faces: FaceRepository

    def audit_rows(self) -> int:
        engine = self.people._sessions.kw["bind"]
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM audit_log WHERE actor_name = :name")
            return int(conn.execute(query, {"name": ACTOR.name}).scalar_one())

    def people_count(self) -> int:
        return self.people.search(PersonFilter(), 0, 0).total

    def state(self) -> list[tuple[Any, ...]]:
        return gallery_state(self.people, self.faces)


@contextmanager
def gallery(kind: str, data_dir: Path) -> Iterator[Gallery]:
    """A migrated, empty gallery: SQLite in data_dir, or a fresh MariaDB/PostgreSQL one."""
    with ExitStack() as stack:
        url = "" if kind == "sqlite" else stack.enter_context(fresh_database(kind))
        yield stack.enter_context(gallery_at(make_settings(data_dir, url)))


@contextmanager
def gallery_at(settings: Settings) -> Iterator[Gallery]:
    with open_importer(settings):  # migrates
        pass
    engine = make_engine(settings.effective_database_url)
    try:
        sessions = make_session_factory(engine)
        yield Gallery(settings, PeopleRepository(sessions), FaceRepository(sessions))
    finally:
        engine.dispose()


def every_identity_source(root: Path) -> Path:
    """Every identity of ../shared/faces/people, a folder each, plus the broken ones of
    folder_source: long enough to be stopped halfway."""
    source = folder_source(root)
    for identity in sorted(p.name for p in PEOPLE.iterdir() if p.is_dir()):
        if not (source / identity).exists():
            _copy(identity, source / identity)
    return source


def zip_folder(folder: Path, archive: Path, inside: str = "") -> Path:
    """`folder`'s files in a zip, paths relative to it (under `inside/` when given)."""
    import zipfile

    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            zipped.write(path, f"{inside}/{name}" if inside else name)
    return archive

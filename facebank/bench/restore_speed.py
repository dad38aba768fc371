"""How fast an export archive is restored into an empty SQLite gallery, index ready at the end.

    facebank bench restore [--faces 100000] [--faces-per-person 5] [--photos DIR]
                           [--archive PATH]

The archive is built from real data: the photos of DIR (a folder per person) are imported
into a scratch gallery under the running model pack and exported; its faces are then
replicated up to --faces, each copy's embedding nudged by a small deterministic
perturbation (and normalised again), --faces-per-person to a person. The copies share the
real photos by media hash, so the restore copies few files: what is measured is reading
and checking the archive, inserting the rows, and building and saving the index. With
--archive the archive is kept at PATH, and a later run restores that one as it is (its
--faces and --photos then do not matter): runs compared before and after a change restore
the very same bytes.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from facebank.auth.principal import system_principal
from facebank.config import Settings
from facebank.services.export_archive import (
    PEOPLE,
    Archive,
    ArchiveWriter,
    photo_entry,
    read_archive,
)
from facebank.services.exporter import Exporter
from facebank.services.import_report import ImportSummary
from facebank.services.import_setup import open_importer, open_restorer
from facebank.services.import_sources import read_source
from facebank.store.db import make_engine, make_session_factory
from facebank.store.media import MediaStore

ACTOR = system_principal("bench-restore")
NOISE = 0.02  # per-dimension perturbation before normalising: copies stay near the original
SEED = 11


@dataclass(frozen=True)
class RestoreSpeed:
    faces: int
    people: int
    photos: int
    archive_mb: float
    read_s: float  # checksums verified, rows parsed
    restore_s: float  # photos copied, rows inserted, index built and its snapshot saved
    index_size: int
    faces_per_s: float  # faces / (read_s + restore_s)
    cpu_s: float  # this process's CPU time for both (all threads): what a busy machine's
    faces_per_cpu_s: float  # wall time hides (though sharing cores slows CPU work too)
    phases_s: dict[str, float]  # read, then the restore's own steps (RestoreSummary.phases)
    load_average: float  # the machine's 1-minute load when it ended: how shared it was

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    settings: Settings, photos: Path, faces: int, per_person: int, workers: int, model_id: str,
    keep: Path | None = None,
) -> RestoreSpeed:  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="facebank-restore-bench-") as tmp:
        root = Path(tmp)
        archive = keep if keep is not None else root / "bench.zip"
        if not archive.is_file():
            real = _real_archive(settings, photos, root, workers, model_id)
            media = MediaStore(root / "scratch" / "media")
            _replicated(real, media, archive, faces, per_person)
        target = settings.model_copy(update={"data_dir": root / "target", "database_url": ""})
        started, cpu = time.perf_counter(), time.process_time()
        loaded = read_archive(archive)
        read_s = time.perf_counter() - started
        with open_restorer(target, model_id) as restorer:
            summary = restorer.restore(ACTOR, loaded)
        total, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        return RestoreSpeed(
            faces=summary.faces,
            people=summary.people,
            photos=summary.photos,
            archive_mb=round(archive.stat().st_size / 1e6, 1),
            read_s=round(read_s, 2),
            restore_s=round(total - read_s, 2),
            index_size=summary.index_size,
            faces_per_s=round(summary.faces / total),
            cpu_s=round(cpu_s, 2),
            faces_per_cpu_s=round(summary.faces / cpu_s),
            phases_s={"read": round(read_s, 3), **summary.phases},
            load_average=round(os.getloadavg()[0], 2),
        )


def _real_archive(
    settings: Settings, photos: Path, root: Path, workers: int, model_id: str
) -> Archive:
    """The photos imported under the running model into a scratch gallery, then exported."""
    scratch = settings.model_copy(update={"data_dir": root / "scratch", "database_url": ""})
    with open_importer(scratch) as importer:
        importer.run(ACTOR, read_source(photos), ImportSummary(), workers=workers)
    engine = make_engine(scratch.effective_database_url)
    dest = root / "real.zip"
    try:
        exporter = Exporter(make_session_factory(engine), MediaStore(scratch.media_dir), model_id)
        with dest.open("wb") as stream:
            exporter.write(stream)
    finally:
        engine.dispose()
    return read_archive(dest)


def _replicated(real: Archive, media: MediaStore, dest: Path, faces: int, per_person: int) -> Path:
    if not real.faces:
        raise SystemExit("no face was enrolled from the photos: nothing to replicate")
    count = -(-faces // per_person)
    people = [{**real.people[0], "id": i, "external_id": f"B-{i}", "name": f"Person {i}",
               "metadata": {"bench": i}} for i in range(1, count + 1)]  # fmt: skip
    with dest.open("wb") as stream:
        writer = ArchiveWriter(stream, real.model_id)
        writer.write_lines(PEOPLE, people, "people")
        writer.write_faces(list(_faces(real, faces, per_person)))
        for ref, kind in sorted({(f["media_ref"], f["media_type"]) for f in real.faces}):
            writer.write_photo(photo_entry(ref, kind), media.path(ref))
        writer.close()
    return dest


def _faces(real: Archive, faces: int, per_person: int) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    templates = real.faces
    for i in range(faces):
        template = templates[i % len(templates)]
        vector = np.frombuffer(template["embedding"], dtype="<f4")
        nudged = vector + rng.normal(0.0, NOISE, vector.size).astype(np.float32)
        nudged /= np.linalg.norm(nudged)
        face = {**template, "id": i + 1, "person_id": i // per_person + 1}
        yield {**face, "embedding": nudged.astype("<f4").tobytes()}

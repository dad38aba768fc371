"""Import throughput next to the bare pipeline ceiling, measured in the same run.

    python -m facebank.bench.import_throughput PHOTOS [--copies N] [--workers N] [--ceiling-s S]

PHOTOS is a folder per person. The source imported is N copies of it (default 20: with
../shared/faces/people 1,540 photos, about 40 s here, the size of a bulk import; the workers'
~1 s start-up is a fixed cost), each copy its own people and its photos' bytes made distinct
(facebank.bench.photo_copies), so every photo is analysed, stored and committed as in a real
import, into a fresh SQLite database in a temporary data directory. The ceiling is the
bench's: the same number of single-thread processes analysing the same photos with no
database and no media writes, for S seconds (default 15) just before the import and again
just after it. The import is compared with the mean of the two, so a host that drifts
linearly faster or slower during the run cancels out; both are reported (far apart: the
machine was not quiet, and the ratio is noise). The import's rate counts its whole run,
the workers' start-up included; the steady rate leaves the start-up out.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
from pathlib import Path

from facebank.auth.principal import system_principal
from facebank.bench.ceiling import measure_throughput
from facebank.bench.photo_copies import distinct_copy
from facebank.config import Settings
from facebank.services.import_report import ImportSummary
from facebank.services.import_setup import open_importer
from facebank.services.import_sources import SourcePerson, read_source


def _copied_source(photos: Path, copies: int, root: Path) -> Path:
    """`copies` copies of the folder per person, each photo's bytes distinct per copy."""
    source = root / "source"
    for copy in range(copies):
        for person in sorted(p for p in photos.iterdir() if p.is_dir()):
            folder = source / f"{person.name}_{copy}"
            folder.mkdir(parents=True)
            for photo in sorted(p for p in person.iterdir() if p.is_file()):
                (folder / photo.name).write_bytes(distinct_copy(photo.read_bytes(), copy))
    return source


def measure(photos: Path, copies: int, workers: int, ceiling_s: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="facebank-import-bench-") as tmp:
        root = Path(tmp)
        source = read_source(_copied_source(photos, copies, root))  # copied before: no I/O
        _, before = measure_throughput(photos, workers, ceiling_s)
        parent_before, workers_before = _cpu_s()
        summary = _import(root, source, workers)
        parent_after, workers_after = _cpu_s()  # the pool's workers have exited: counted
        _, after = measure_throughput(photos, workers, ceiling_s)
    ceiling = (before + after) / 2
    per_photo_ms = 1000 / max(1, summary.photos_done)
    return {
        "workers": workers,
        "photos": summary.photos_done,
        "import_photos_per_s": round(summary.photos_per_s, 2),
        "import_steady_photos_per_s": round(summary.steady_photos_per_s, 2),
        "import_warmup_s": round(summary.warmup_s, 2),
        "ceiling_photos_per_s": round(ceiling, 2),  # the mean of the two below
        "ceiling_before_photos_per_s": round(before, 2),
        "ceiling_after_photos_per_s": round(after, 2),
        # The goal: the import at >= 0.9 of the bare ceiling, in the same run.
        "throughput_ratio_vs_ceiling": _ratio(summary.photos_per_s, ceiling),
        "steady_throughput_ratio_vs_ceiling": _ratio(summary.steady_photos_per_s, ceiling),
        # Where the import's CPU goes: the importing process (storing, committing, taking
        # results) and its workers (the ceiling's work), per photo imported.
        "parent_cpu_ms_per_photo": round((parent_after - parent_before) * per_photo_ms, 2),
        "workers_cpu_ms_per_photo": round((workers_after - workers_before) * per_photo_ms, 2),
        "ceiling_cpu_ms_per_photo": round(1000 * workers / ceiling, 2) if ceiling else 0.0,
    }


def _cpu_s() -> tuple[float, float]:
    """CPU seconds (user + system) of this process and of its exited children so far."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _import(root: Path, source: list[SourcePerson], workers: int) -> ImportSummary:
    """Import `source` into a fresh SQLite gallery under `root`."""
    # The models as the ceiling's processes (and a server that ran before) prepared them:
    # a user imports into a data directory whose model cache exists.
    settings = Settings(
        _env_file=None,
        data_dir=root / "data",
        database_url="",
        model_cache_dir=Settings().effective_model_cache_dir,
    )
    summary = ImportSummary()
    with open_importer(settings) as importer:
        # The copies are one person under N names on purpose: commit them all, as before.
        importer.run(
            system_principal("bench"), source, summary, workers=workers, allow_duplicate=True
        )
    return summary


def _ratio(rate: float, ceiling: float) -> float:
    return round(rate / ceiling, 3) if ceiling else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", type=int, default=Settings().cpu_count)
    parser.add_argument(
        "--ceiling-s", type=float, default=15.0, help="seconds per ceiling, before and after"
    )
    args = parser.parse_args()
    print(json.dumps(measure(args.photos, args.copies, args.workers, args.ceiling_s), indent=2))


if __name__ == "__main__":
    main()

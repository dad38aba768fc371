""" "Not this person" labels through an export and a restore, with real photos.

A SQLite gallery of B (deepface_id07) and Obama where a photo of deepface_id08 (never
enrolled) is marked "not B": at a low threshold (tests/api/test_negatives.py) it would be
named B. Exported and restored into SQLite, MariaDB and PostgreSQL, the label is there
with every column and a server on the restored gallery still refuses the false match; an
archive of format 2 (no labels) still restores, and the false match is back; under
another model pack the label is embedded again from its crop onto the re-enrolled B.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from facebank.auth.roles import Role
from facebank.config import Settings
from facebank.errors import ValidationFailedError
from facebank.pipeline.pipeline import FacePipeline
from facebank.services.export_archive import CROPS, MANIFEST, NEGATIVES, read_archive
from facebank.services.restore import ALREADY, REEMBEDDED, RESTORED
from facebank.store.media import MediaStore, media_ref
from tests.api.conftest import app_client, running_services
from tests.api.test_negatives import B_ENROLLED, B_OTHERS, LOW, STRANGER, enroll, mark_not, matched
from tests.conftest import identity_photos
from tests.services.import_sources import gallery
from tests.services.restore_helpers import (
    dump,
    export,
    negated,
    reembed,
    restore,
    serving,
    with_faces,
)

TARGETS = [
    "sqlite",
    pytest.param("mysql", marks=pytest.mark.mysql),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]
OLD_MODEL = "old-model-0123456789ab"


@pytest.fixture
def labelled(tmp_path: Path, face_pipeline: FacePipeline) -> Iterator[tuple[Settings, Path, int]]:
    """A SQLite gallery with a "not B" label stopping a false match, its export, B's id."""
    with running_services("sqlite", tmp_path / "source", face_pipeline) as services:
        with app_client(services, Role.OPERATOR) as client:
            b = enroll(client, "B", B_ENROLLED)
            enroll(client, "Obama", identity_photos()["fr_obama"][:2])
            assert matched(client, STRANGER, LOW) == b  # the false match
            mark_not(client, b, STRANGER)
            assert matched(client, STRANGER, LOW) is None
        archive = export(services.settings, face_pipeline.model_id, tmp_path / "gallery.zip")
        yield services.settings, archive, b


@contextmanager
def client_of(settings: Settings, pipeline: FacePipeline) -> Iterator[Any]:
    with serving(settings, pipeline) as services, app_client(services, Role.OPERATOR) as client:
        yield client


def _labels(settings: Settings) -> list[dict[str, Any]]:
    return [{**n, "embedding": bytes(n["embedding"])} for n in dump(settings).negatives]


def test_the_archive_holds_every_label_and_its_crop(labelled: tuple[Settings, Path, int]) -> None:
    original, path, b = labelled
    archive = read_archive(path)
    assert archive.manifest["format_version"] == 3
    assert (
        archive.manifest["counts"]["negatives"],
        archive.manifest["counts"]["negative_crops"],
    ) == (
        1,
        1,
    )
    assert archive.negatives == _labels(original)  # every column, the time included
    label = archive.negatives[0]
    assert label["person_id"] == b and label["created_at"].tzinfo is not None
    (crop,) = archive.crops([(label["media_ref"], label["media_type"])])
    assert crop[1] is not None and media_ref(crop[1]) == label["media_ref"]


@pytest.mark.parametrize("target", TARGETS)
def test_a_restored_gallery_keeps_its_labels_and_stops_the_false_match(
    target: str, labelled: tuple[Settings, Path, int], tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    original, archive, b = labelled
    with gallery(target, tmp_path / "restored") as fresh:
        summary = restore(fresh.settings, face_pipeline.model_id, archive)
        assert (summary.mode, summary.people, summary.faces, summary.negatives) == (
            RESTORED, 2, 4, 1
        )  # fmt: skip
        assert _labels(fresh.settings) == _labels(original)
        crop = MediaStore(fresh.settings.media_dir)
        assert crop.exists(_labels(fresh.settings)[0]["media_ref"])
        with client_of(fresh.settings, face_pipeline) as client:
            assert matched(client, STRANGER, LOW) is None
            assert matched(client, B_OTHERS[0]) == b  # B's own photos still match B
            listed = client.get(f"/api/v1/people/{b}/negatives").json()
            assert len(listed) == 1 and client.get(listed[0]["image_url"]).status_code == 200
            # A label added after the restore gets an id past the restored one.
            added = mark_not(client, b, identity_photos()["fr_obama"][2])
            assert added["id"] > listed[0]["id"]
        again = restore(fresh.settings, face_pipeline.model_id, archive)
        assert (again.mode, len(_labels(fresh.settings))) == (ALREADY, 2)


def _as_format_2(archive: Path, dest: Path) -> Path:
    """`archive` as written before labels: no negatives.jsonl, no crops, format 2."""
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(dest, "w") as out:
        manifest = json.loads(src.read(MANIFEST))
        for name in src.namelist():
            if name not in (MANIFEST, NEGATIVES) and not name.startswith(CROPS):
                out.writestr(name, src.read(name))
        manifest["format_version"] = 2
        manifest["sha256"] = {
            k: v
            for k, v in manifest["sha256"].items()
            if k != NEGATIVES and not k.startswith(CROPS)
        }
        del manifest["counts"]["negatives"], manifest["counts"]["negative_crops"]
        out.writestr(MANIFEST, json.dumps(manifest))
    return dest


def test_an_archive_without_labels_still_restores(
    labelled: tuple[Settings, Path, int], tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    _, archive, b = labelled
    old = _as_format_2(archive, tmp_path / "v2.zip")
    assert read_archive(old).negatives == []
    with gallery("sqlite", tmp_path / "restored") as fresh:
        summary = restore(fresh.settings, face_pipeline.model_id, old)
        assert (summary.mode, summary.faces, summary.negatives) == (RESTORED, 4, 0)
        with client_of(fresh.settings, face_pipeline) as client:
            assert matched(client, STRANGER, LOW) == b  # nothing in the way any more


@pytest.mark.parametrize(
    "target", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_another_model_packs_archive_re_embeds_its_labels(
    target: str, labelled: tuple[Settings, Path, int], tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    original, archive, _ = labelled
    source = read_archive(archive)
    faces = [{**f, "model_id": OLD_MODEL, "embedding": negated(f["embedding"])}
             for f in source.faces]  # fmt: skip
    labels = [{**n, "model_id": OLD_MODEL, "embedding": negated(n["embedding"])}
              for n in source.negatives]  # fmt: skip
    media = MediaStore(original.media_dir)
    old = with_faces(archive, media, faces, tmp_path / "old.zip", OLD_MODEL, labels)
    with gallery(target, tmp_path / "restored") as fresh:
        summary = reembed(fresh.settings, face_pipeline.model_id, old, face_pipeline)
        assert (summary.mode, summary.people, summary.faces) == (REEMBEDDED, 2, 4)
        assert (summary.negatives, summary.negatives_reembedded) == (1, 1)
        assert summary.negatives_skipped == []
        (label,) = _labels(fresh.settings)
        (before,) = source.negatives
        people = {p["name"]: p["id"] for p in dump(fresh.settings).people}
        assert label["person_id"] == people["B"]
        assert label["model_id"] == face_pipeline.model_id
        assert _cosine(label["embedding"], before["embedding"]) > 0.99  # the crop's face
        kept = ("box", "landmarks", "media_ref", "created_by", "created_at")
        assert {k: label[k] for k in kept} == {k: before[k] for k in kept}
        with client_of(fresh.settings, face_pipeline) as client:
            assert matched(client, STRANGER, LOW) is None
            assert matched(client, B_OTHERS[0]) == people["B"]
        again = reembed(fresh.settings, face_pipeline.model_id, old, face_pipeline)
        assert (again.negatives, len(_labels(fresh.settings))) == (0, 1)  # nothing twice


def _cosine(a: bytes, b: bytes) -> float:
    x, y = np.frombuffer(a, "<f4"), np.frombuffer(b, "<f4")
    return float(x @ y / np.linalg.norm(x) / np.linalg.norm(y))


BAD_LABELS = {
    "no such person": ({"person_id": 10**9}, "belongs to no person"),
    "four landmarks": ({"landmarks": [[1.0, 2.0]] * 4}, "box or landmarks malformed"),
    "short embedding": ({"dim": 511}, "not dim"),
    "bool id": ({"id": True}, "bad id"),
    "naive time": ({}, "created_at"),
}


@pytest.mark.parametrize("bad", list(BAD_LABELS))
def test_a_bad_label_refuses_the_whole_restore(
    bad: str, labelled: tuple[Settings, Path, int], tmp_path: Path, face_pipeline: FacePipeline
) -> None:
    original, archive, _ = labelled
    source = read_archive(archive)
    change, message = BAD_LABELS[bad]
    labels = [{**n, **change} for n in source.negatives]
    if bad == "naive time":
        labels = [{**n, "created_at": n["created_at"].replace(tzinfo=None)} for n in labels]
    media = MediaStore(original.media_dir)
    broken = with_faces(archive, media, source.faces, tmp_path / "bad.zip", negatives=labels)
    with gallery("sqlite", tmp_path / "restored") as fresh:
        with pytest.raises(ValidationFailedError, match=message):
            restore(fresh.settings, face_pipeline.model_id, broken)
        assert fresh.people_count() == 0 and dump(fresh.settings).negatives == []

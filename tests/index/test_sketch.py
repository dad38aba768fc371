"""The sketch path of large galleries, at a modest size (20k faces, threshold lowered):
real face embeddings of ../shared/faces/people as queries and mates among distractors
made from them, every answer checked against the exact flat index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from facebank.bench.distractors import make_distractors, pair_scores
from facebank.evaluation.runner import embed_dataset
from facebank.index import GalleryIndex, gallery_index, load_snapshot, save_snapshot
from facebank.pipeline.pipeline import FacePipeline

from ..conftest import PEOPLE
from .helpers import assert_same_hits

DIM = 512
MODEL = "w600k_mbf"
SIZE = 20_000
THRESHOLD = 5_000
DISTRACTOR_PERSON0 = 100_000


class Gallery:
    def __init__(self, vectors: NDArray[np.float32], people: NDArray[np.int64]) -> None:
        self.vectors, self.people = vectors, people
        self.face_ids = np.arange(1, vectors.shape[0] + 1, dtype=np.int64)
        self.real = int(np.count_nonzero(people < DISTRACTOR_PERSON0))

    def index(self, threshold: int) -> GalleryIndex:
        index = GalleryIndex(DIM, MODEL, sketch_threshold=threshold)
        index.add(self.face_ids, self.people, self.vectors)
        return index


@pytest.fixture(scope="module")
def gallery(face_pipeline: FacePipeline) -> Gallery:
    photos, _ = embed_dataset(face_pipeline, PEOPLE)
    names = sorted({p.identity for p in photos})
    real = np.stack([p.embedding for p in photos]).astype(np.float32)
    real /= np.linalg.norm(real, axis=1, keepdims=True)
    people = np.array([names.index(p.identity) + 1 for p in photos], dtype=np.int64)
    same, _ = pair_scores(real, people)
    distractors = make_distractors(real, SIZE - real.shape[0], cap=float(same.min()), seed=3)
    vectors = np.vstack([real, distractors]).astype(np.float32)
    others = DISTRACTOR_PERSON0 + np.arange(distractors.shape[0], dtype=np.int64)
    return Gallery(vectors, np.concatenate([people, others]))


def leave_one_out_hits(
    index: GalleryIndex, g: Gallery, i: int, top_k: int
) -> list[gallery_index.PersonHit]:
    """The answer for real photo i with its own face out of the gallery (its mates stay)."""
    fid = g.face_ids[i : i + 1]
    index.remove(fid)
    try:
        return index.search(g.vectors[i : i + 1], top_k)[0]
    finally:
        index.add(fid, g.people[i : i + 1], g.vectors[i : i + 1])


def test_kind_follows_size(gallery: Gallery) -> None:
    assert gallery.index(THRESHOLD).kind == "sketch"
    assert gallery.index(SIZE + 1).kind == "flat"
    index = GalleryIndex(DIM, MODEL, sketch_threshold=THRESHOLD)
    for start in range(0, SIZE, 4_000):  # crossing the threshold on a later add
        part = slice(start, start + 4_000)
        index.add(gallery.face_ids[part], gallery.people[part], gallery.vectors[part])
        assert index.kind == ("sketch" if start + 4_000 >= THRESHOLD else "flat")
    index.remove(gallery.face_ids[: SIZE - THRESHOLD // 2 + 1])  # below half: back to flat
    assert (index.size, index.kind) == (THRESHOLD // 2 - 1, "flat")


def test_rank1_and_scores_equal_exact_for_real_queries(gallery: Gallery) -> None:
    sketched, exact = gallery.index(THRESHOLD), gallery.index(SIZE + 1)
    for i in range(gallery.real):
        got = leave_one_out_hits(sketched, gallery, i, 5)
        want = leave_one_out_hits(exact, gallery, i, 5)
        assert got[0].person_id == want[0].person_id, gallery.people[i]
        assert got[0].face_id == want[0].face_id
        # Every score is the exact cosine of the query with the face named.
        cosines = gallery.vectors[[h.face_id - 1 for h in got]] @ gallery.vectors[i]
        np.testing.assert_allclose([h.score for h in got], cosines, atol=1e-5)
        np.testing.assert_allclose(got[0].score, want[0].score, atol=1e-5)


@pytest.mark.parametrize("gather_max", [gallery_index.ROSTER_GATHER_MAX, 10])
def test_roster_search_is_exact(
    gallery: Gallery, gather_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 10: the roster is too big to gather and is searched by the full scan instead.
    monkeypatch.setattr(gallery_index, "ROSTER_GATHER_MAX", gather_max)
    sketched, exact = gallery.index(THRESHOLD), gallery.index(SIZE + 1)
    rng = np.random.default_rng(5)
    roster = set(rng.choice(gallery.people, 40, replace=False).tolist()) | {1, 2}
    queries = gallery.vectors[:10]
    for got, want in zip(
        sketched.search(queries, 5, roster), exact.search(queries, 5, roster), strict=True
    ):
        assert_same_hits(got, want)


def test_remove_and_replace_keep_the_sketch_aligned(gallery: Gallery) -> None:
    sketched, exact = gallery.index(THRESHOLD), gallery.index(SIZE + 1)
    rng = np.random.default_rng(8)
    gone = rng.choice(gallery.face_ids[gallery.real :], 3_000, replace=False)
    for index in (sketched, exact):
        index.remove(gone)
        index.remove_person(1)
    # Face 500 becomes a copy of a photo of person 3, filed under a new person.
    photo = gallery.vectors[np.flatnonzero(gallery.people == 3)[:1]]
    for index in (sketched, exact):
        index.add(np.array([500]), [77_777], photo)
    top = sketched.search(photo, 2)[0]
    assert {h.person_id for h in top} == {77_777, 3}
    assert top[0].score == pytest.approx(1.0, abs=1e-5)
    # A misaligned slot would name the wrong face or give it another face's score.
    kept = np.setdiff1d(gallery.face_ids[gallery.real :], np.append(gone, 500))[::50]
    for fid, row in zip(kept, sketched.search(gallery.vectors[kept - 1], 1), strict=True):
        assert (row[0].face_id, row[0].person_id) == (fid, gallery.people[fid - 1])
        assert row[0].score == pytest.approx(1.0, abs=1e-5)
    real = gallery.vectors[gallery.real // 2 : gallery.real]
    for got, want in zip(sketched.search(real, 1), exact.search(real, 1), strict=True):
        assert_same_hits(got, want)
    assert all(h.person_id != 1 for row in sketched.search(gallery.vectors[:5], 5) for h in row)


def test_snapshot_round_trip_keeps_the_sketch(gallery: Gallery, tmp_path: Path) -> None:
    index = gallery.index(THRESHOLD)
    save_snapshot(index, tmp_path, {"seq": 1})
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["sketch_file"] in meta["files"]
    loaded = load_snapshot(tmp_path, DIM, MODEL, sketch_threshold=THRESHOLD)
    assert loaded is not None
    copy = loaded[0]
    assert (copy.kind, copy.size) == ("sketch", SIZE)
    queries = gallery.vectors[:20]
    assert copy.search(queries, 5) == index.search(queries, 5)
    # Saved codes made another way are not trusted: the loader rebuilds them.
    meta["sketch"]["seed"] += 1
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    rebuilt = load_snapshot(tmp_path, DIM, MODEL, sketch_threshold=THRESHOLD)
    assert rebuilt is not None
    assert rebuilt[0].kind == "sketch"
    assert rebuilt[0].search(queries, 5) == index.search(queries, 5)

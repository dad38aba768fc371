"""`facebank eval-clusters` and `facebank bench-unknowns` from the shell, on a few real photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from facebank.cli.main import main
from tests.conftest import PEOPLE, YALE

PEOPLE_IDS = ("deepface_id01", "deepface_id02", "fr_obama")


def _copy(source: Path, dest: Path, each: int) -> None:
    photos = sorted(p for p in source.iterdir() if p.suffix.lower() in {".jpg", ".gif"})
    dest.mkdir(parents=True)
    for photo in photos[:each]:
        shutil.copy(photo, dest / photo.name)


def _faces(root: Path) -> Path:
    for identity in PEOPLE_IDS:
        _copy(PEOPLE / identity, root / "people" / identity, 3)
    _copy(YALE / "subject01", root / "yale" / "subject01", 3)
    return root


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACEBANK_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_eval_clusters_scores_each_rule_and_names_the_best(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faces = _faces(env / "faces")
    out = env / "clusters.json"
    args = ["eval-clusters", str(faces / "people"), str(faces / "yale"), "--link", "0.1,0.425",
            "--min-links", "2", "--orders", "2", "--json", str(out)]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "best: link 0.425 min_links 2" in printed
    report = json.loads(out.read_text())
    assert report["sets"] == {"people": 9, "yale": 3, "all": 12}
    low, chosen = report["rules"]
    assert chosen["sets"]["all"]["bcubed_f"] == 1.0
    assert chosen["sets"]["all"]["clusters"] == chosen["sets"]["all"]["identities"] == 4
    assert low["sets"]["all"]["purity"] < 1.0  # at cosine 0.1 different people chain
    assert report["best"]["link"] == 0.425


def test_bench_unknowns_reports_the_cost_per_new_face(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faces = _faces(env / "faces")
    out = env / "bench.json"
    args = ["bench-unknowns", "--stored", "400", "--queries", "20", "--photos", str(faces),
            "--work-dir", str(env / "work"), "--json", str(out)]  # fmt: skip
    assert main(args) == 0
    assert "400 stored unknowns, 20 new faces" in capsys.readouterr().out
    report = json.loads(out.read_text())
    assert (report["stored"], report["queries"]) == (400, 20)
    assert report["joined"] + report["started"] == 20
    assert report["joined"] >= 1  # the real photos' mates are stored
    assert 0 < report["p50_ms"] <= report["p95_ms"]
    assert report["per_face_ms"] > 0 and report["search_p50_ms"] > 0
    assert report["link"] == 0.425 and report["model_id"]


def test_bench_unknowns_refuses_a_store_smaller_than_its_real_photos(env: Path) -> None:
    faces = _faces(env / "faces")
    with pytest.raises(SystemExit, match="--stored must exceed"):
        main(["bench-unknowns", "--stored", "3", "--photos", str(faces),
              "--work-dir", str(env / "work")])  # fmt: skip

"""`facebank eval` from the shell on real photos: its report, histogram and plot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from facebank.cli.main import main
from tests.conftest import PEOPLE

IDENTITIES = ("deepface_id01", "deepface_id02", "deepface_id03")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _small_dataset(root: Path) -> Path:
    """Three identities of ../shared/faces/people, three photos each."""
    for identity in IDENTITIES:
        photos = sorted(p for p in (PEOPLE / identity).iterdir() if p.is_file())[:3]
        (root / identity).mkdir(parents=True)
        for photo in photos:
            shutil.copy(photo, root / identity / photo.name)
    return root


def test_eval_writes_report_histogram_and_plot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FACEBANK_DATA_DIR", str(tmp_path / "data"))
    dataset = _small_dataset(tmp_path / "people")
    before_json, after_json = tmp_path / "before.json", tmp_path / "after.json"
    png = tmp_path / "eval.png"

    assert main(["eval", str(dataset), "--json", str(before_json)]) == 0
    assert "rank-1 100.00%" in capsys.readouterr().out
    assert main(
        ["eval", str(dataset), "--json", str(after_json), "--png", str(png),
         "--before", str(before_json)]
    ) == 0  # fmt: skip

    (report,) = json.loads(after_json.read_text())
    histogram, verification = report["histogram"], report["verification"]
    assert sum(histogram["same"]) == verification["same_pairs"] == 3 * 3
    assert sum(histogram["different"]) == verification["different_pairs"] == 27
    assert len(histogram["edges"]) == len(histogram["same"]) + 1
    # every same-person pair of these photos scores above every different-person pair
    lower_edges = histogram["edges"][:-1]
    highest_different = max(
        e for e, n in zip(lower_edges, histogram["different"], strict=True) if n
    )
    lowest_same = min(e for e, n in zip(lower_edges, histogram["same"], strict=True) if n)
    assert highest_different < lowest_same
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 10_000

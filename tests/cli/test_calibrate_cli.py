"""`facebank calibrate` from the shell, on a gallery of ../shared/faces/people."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facebank.cli.main import main
from facebank.pipeline.pipeline import FacePipeline
from facebank.store.audit import AuditFilter
from tests.api.conftest import running_services
from tests.calibration_gallery import enroll_identities
from tests.conftest import identity_photos


def _point_at(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("FACEBANK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FACEBANK_DATABASE_URL", "")


def test_calibrate_recommends_then_applies(
    tmp_path: Path,
    face_pipeline: FacePipeline,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir = tmp_path / "data"
    with running_services("sqlite", data_dir, face_pipeline) as services:
        faces = enroll_identities(services, identity_photos())
    _point_at(monkeypatch, data_dir)

    assert main(["calibrate", "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)["measured"]
    assert measured["faces"] == faces
    assert [r["target_far"] for r in measured["recommendations"]] == [0.01, 0.001]
    one_percent = measured["recommendations"][0]["threshold"]
    assert measured["highest_impostor"] < one_percent < measured["lowest_genuine"]

    assert main(["calibrate", "--apply", "0.01"]) == 0
    out = capsys.readouterr().out
    assert "target FAR 1.00% per search: threshold" in out
    assert f"applied threshold {one_percent} (target FAR 0.01)" in out
    with running_services("sqlite", data_dir, face_pipeline) as services:
        applied = services.calibration.thresholds.calibration()
        assert applied is not None and applied.applied_by == "cli"
        assert services.calibration.thresholds.current() == one_percent
        audited = services.auth.audit.page(AuditFilter(action="calibrate"), 0, 10)
        assert [e.target_id for e in audited.items] == [str(applied.id)]


def test_calibrate_an_empty_gallery_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _point_at(monkeypatch, tmp_path / "data")
    assert main(["calibrate"]) == 2
    assert "the gallery has 0 faces of 0 people" in capsys.readouterr().err
    assert main(["calibrate", "--target-far", "2"]) == 2
    assert "must be in (0, 0.5]" in capsys.readouterr().err

"""Settings that place state: media and evidence follow FACEBANK_MEDIA_ROOT when set."""

from __future__ import annotations

from pathlib import Path

from facebank.config import Settings


def test_media_and_evidence_live_in_the_data_dir_by_default(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")
    assert settings.media_dir == tmp_path / "data" / "media"
    assert settings.evidence_dir == tmp_path / "data" / "evidence"


def test_a_media_root_moves_media_and_evidence_but_not_the_index(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", media_root=tmp_path / "nfs")
    assert settings.media_dir == tmp_path / "nfs" / "media"
    assert settings.evidence_dir == tmp_path / "nfs" / "evidence"
    assert settings.index_dir == tmp_path / "data" / "index"  # per machine: its own snapshot

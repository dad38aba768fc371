"""Camera URLs, backoff delays and evidence retention."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from facebank.errors import ValidationFailedError
from facebank.sessions.backoff import Backoff
from facebank.sessions.evidence import EvidenceStore
from facebank.sessions.sources import Source, parse_source, redact


def test_camera_urls() -> None:
    assert parse_source("0") == Source("device", 0)
    assert parse_source("rtsp://u:p@cam:554/s").kind == "stream"
    assert parse_source("http://127.0.0.1:8080/x.mjpg").kind == "stream"
    assert parse_source("file:///videos/a.mp4") == Source("file", "/videos/a.mp4")
    assert parse_source("/videos/a.mp4") == Source("file", "/videos/a.mp4")
    with pytest.raises(ValidationFailedError):
        parse_source("gopher://cam/1")
    assert redact("rtsp://admin:hunter2@cam:554/s") == "rtsp://admin:***@cam:554/s"
    assert redact("http://cam/x") == "http://cam/x"


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(1.0, 8.0)
    assert [backoff.ceiling(n) for n in range(1, 6)] == [1, 2, 4, 8, 8]
    assert backoff.delay(3, rand=lambda: 0.0) == 2.0
    assert backoff.delay(3, rand=lambda: 1.0) == 4.0
    assert backoff.ceiling(10_000) == 8.0


def test_evidence_is_saved_and_swept_after_retention(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, jpeg_quality=80, retention_days=1)
    frame = np.full((100, 120, 3), 128, np.uint8)
    old, new = "evt_" + "a" * 32, "evt_" + "b" * 32
    store.save(7, old, frame, (10, 10, 50, 60))
    store.save(7, new, frame, (10, 10, 50, 60))
    face, full = store.path(7, old, "face"), store.path(7, old, "frame")
    assert face is not None and full is not None
    assert face.read_bytes()[:2] == b"\xff\xd8"
    assert store.path(7, "../../etc/passwd", "face") is None
    assert store.path(7, old, "thumbnail") is None
    two_days_ago = time.time() - 2 * 86400
    for path in (face, full):
        os.utime(path, (two_days_ago, two_days_ago))
    assert store.sweep() == 2
    assert store.path(7, old, "face") is None and store.path(7, new, "face") is not None

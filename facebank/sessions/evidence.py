"""Evidence of each recognition: the face crop and the full frame, as JPEG files under
data_dir/evidence/<session id>/, deleted once older than the retention period."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from facebank.pipeline.types import Box
from facebank.sessions.events import EVIDENCE_KINDS

log = logging.getLogger(__name__)

_EVENT_ID = re.compile(r"evt_[0-9a-f]{32}")
# The crop shows some context around the face box (hair, chin), like a photo ID does.
CROP_MARGIN = 0.4


class EvidenceStore:
    def __init__(self, root: Path, jpeg_quality: int, retention_days: float) -> None:
        self._root = root
        self._quality = jpeg_quality
        self._retention_s = retention_days * 86400

    def save(self, session_id: int, event_id: str, frame: NDArray[np.uint8], box: Box) -> None:
        """Write both files (each atomically: a reader never sees half a JPEG)."""
        folder = self._root / str(session_id)
        folder.mkdir(parents=True, exist_ok=True)
        self._write(folder / f"{event_id}-frame.jpg", frame)
        self._write(folder / f"{event_id}-face.jpg", face_crop(frame, box))

    def path(self, session_id: int, event_id: str, kind: str) -> Path | None:
        """The file if it exists; None for unknown kinds, malformed ids or expired files."""
        if kind not in EVIDENCE_KINDS or not _EVENT_ID.fullmatch(event_id):
            return None
        path = self._root / str(session_id) / f"{event_id}-{kind}.jpg"
        return path if path.is_file() else None

    def delete(self, session_id: int, event_id: str) -> None:
        for kind in EVIDENCE_KINDS:
            (self._root / str(session_id) / f"{event_id}-{kind}.jpg").unlink(missing_ok=True)

    def sweep(self, now: float | None = None) -> int:
        """Delete evidence older than the retention period; returns how many files."""
        cutoff = (time.time() if now is None else now) - self._retention_s
        removed = 0
        if not self._root.is_dir():
            return 0
        for folder in self._root.iterdir():
            if not folder.is_dir():
                continue
            for file in folder.iterdir():
                try:
                    if file.stat().st_mtime < cutoff:
                        file.unlink()
                        removed += 1
                except FileNotFoundError:
                    continue
            # Only long-idle folders: a recent one may be receiving a file right now.
            if folder.stat().st_mtime < cutoff and not any(folder.iterdir()):
                folder.rmdir()
        if removed:
            log.info("evidence retention: deleted %d files", removed)
        return removed

    def _write(self, path: Path, pixels: NDArray[np.uint8]) -> None:
        ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
        if not ok:
            raise OSError(f"JPEG encoding failed for {path.name}")
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data.tobytes())
        os.replace(tmp, path)


def face_crop(frame: NDArray[np.uint8], box: Box) -> NDArray[np.uint8]:
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * CROP_MARGIN, (y2 - y1) * CROP_MARGIN
    left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
    right, bottom = min(w, int(x2 + mx) + 1), min(h, int(y2 + my) + 1)
    if right <= left or bottom <= top:
        return frame
    return frame[top:bottom, left:right]

"""The match threshold in force: the applied calibration of the running model pack, read
from the database (so every worker uses what any one of them applied), else the configured
default. Read at most once per `refresh_s`: that bounds how long another worker's apply takes
to reach this one; an apply through this process is seen at once (`refresh`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from facebank.store.calibrations import CalibrationRecord, CalibrationRepository

log = logging.getLogger(__name__)


class ThresholdSource:
    def __init__(
        self,
        repo: CalibrationRepository,
        model_id: str,
        default: float,
        refresh_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repo = repo
        self._model_id = model_id
        self.default = default
        self._refresh_s = refresh_s
        self._now = monotonic
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._calibration: CalibrationRecord | None = None

    def current(self) -> float:
        calibration = self.calibration()
        return self.default if calibration is None else calibration.threshold

    def calibration(self) -> CalibrationRecord | None:
        with self._lock:
            now = self._now()
            if self._read_at is None or now - self._read_at >= self._refresh_s:
                self._reread(now)
            return self._calibration

    def refresh(self) -> None:
        with self._lock:
            self._reread(self._now())

    def _reread(self, now: float) -> None:
        try:
            self._calibration = self._repo.current(self._model_id)
        except Exception as exc:  # database away: keep deciding with what was read last
            log.warning("reading the applied threshold failed: %s", exc)
        self._read_at = now

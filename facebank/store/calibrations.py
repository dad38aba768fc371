"""Applied threshold calibrations: records and the repository (table `calibrations`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from facebank.store.coltypes import utcnow
from facebank.store.shapes import record_from
from facebank.store.tables import Calibration
from facebank.store.tx import SessionFactory, run_read, run_write


@dataclass(frozen=True)
class NewCalibration:
    model_id: str
    threshold: float
    target_far: float
    estimated_tar: float | None
    method: str
    faces: int
    people: int
    probes: int
    excluded_pairs: int
    applied_by: str


@dataclass(frozen=True)
class CalibrationRecord(NewCalibration):
    id: int
    applied_at: datetime


class CalibrationRepository:
    def __init__(self, session_factory: SessionFactory) -> None:
        self._sessions = session_factory

    def add(self, new: NewCalibration) -> CalibrationRecord:
        def work(session: Session) -> CalibrationRecord:
            row = Calibration(**new.__dict__, applied_at=utcnow())
            session.add(row)
            session.flush()
            return record_from(CalibrationRecord, row)

        return run_write(self._sessions, work)

    def clear(self, model_id: str) -> int:
        """Forget every calibration of `model_id` (the configured default decides again);
        returns how many were removed. The audit log keeps what was applied and when."""

        def work(session: Session) -> int:
            result = session.execute(delete(Calibration).where(Calibration.model_id == model_id))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

        return run_write(self._sessions, work)

    def current(self, model_id: str) -> CalibrationRecord | None:
        """The newest calibration of `model_id`; one of another pack says nothing here."""

        def work(session: Session) -> CalibrationRecord | None:
            query = (
                select(Calibration)
                .where(Calibration.model_id == model_id)
                .order_by(Calibration.id.desc())
                .limit(1)
            )
            row = session.scalars(query).first()
            return None if row is None else record_from(CalibrationRecord, row)

        return run_read(self._sessions, work)

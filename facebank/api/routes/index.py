"""The gallery index: status (checked against the database), rebuild, and the match
threshold calibrated from it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from facebank.api import calibration_schemas as calib
from facebank.api import schemas
from facebank.api.deps import CalibrationDep, GalleryDep, IndexDep, InferenceDep
from facebank.api.security import IndexAdmin, Reader
from facebank.services.calibration import DEFAULT_TARGET_FARS

router = APIRouter(prefix="/api/v1/index", tags=["index"])
# 400: a body that is not JSON; 409: a gallery too small (or empty) to measure from.
CALIBRATION_ERRORS = schemas.error_responses(400, 401, 403, 409, 422)


@router.get("", response_model=calib.IndexOverviewOut, summary="Index status vs the database")
def index_status(_: Reader, index: IndexDep, calibration: CalibrationDep) -> calib.IndexOverviewOut:
    thresholds = calibration.thresholds
    applied = thresholds.calibration()
    shown = None if applied is None else calib.AppliedCalibrationOut.model_validate(applied)
    return calib.IndexOverviewOut(
        **index.status().model_dump(),
        threshold=thresholds.current(),
        threshold_source="default" if applied is None else "calibration",
        default_threshold=thresholds.default,
        calibration=shown,
    )


@router.get(
    "/calibration",
    response_model=calib.CalibrationOut,
    responses=CALIBRATION_ERRORS,
    summary="Measure the threshold for target false-accept rates per search (changes nothing)",
)
def measure_calibration(
    _: IndexAdmin,
    calibration: CalibrationDep,
    target_far: Annotated[list[float] | None, Query(description="repeatable; 0.01 = 1%")] = None,
) -> calib.CalibrationOut:
    measured = calibration.measure(target_far or list(DEFAULT_TARGET_FARS))
    return calib.CalibrationOut.model_validate(
        {**measured.__dict__, "threshold": calibration.thresholds.current()}
    )


@router.post(
    "/calibration",
    response_model=calib.AppliedCalibrationOut,
    responses=CALIBRATION_ERRORS,
    summary="Measure now and apply the threshold for a target false-accept rate, on all workers",
)
def apply_calibration(
    actor: IndexAdmin, calibration: CalibrationDep, body: calib.CalibrationApply
) -> calib.AppliedCalibrationOut:
    return calib.AppliedCalibrationOut.model_validate(calibration.apply(actor, body.target_far))


@router.delete(
    "/calibration",
    response_model=calib.CalibrationClearedOut,
    summary="Forget the applied calibration: every worker goes back to the configured threshold",
)
def clear_calibration(
    actor: IndexAdmin, calibration: CalibrationDep
) -> calib.CalibrationClearedOut:
    return calib.CalibrationClearedOut(threshold=calibration.clear(actor))


@router.post(
    "/rebuild", response_model=schemas.IndexStatusOut, summary="Rebuild the index from the database"
)
def rebuild_index(actor: IndexAdmin, gallery: GalleryDep) -> schemas.IndexStatusOut:
    return schemas.IndexStatusOut.model_validate(gallery.rebuild_index(actor))


@router.post(
    "/reembed",
    response_model=schemas.ReembedOut,
    summary="Re-embed faces of other model packs from their stored photos",
)
async def reembed(
    actor: IndexAdmin, gallery: GalleryDep, index: IndexDep, inference: InferenceDep
) -> schemas.ReembedOut:
    report = await inference.run(gallery.reembed, actor)
    return schemas.ReembedOut(
        reembedded=report.reembedded,
        failed=[
            schemas.ReembedFailure(face_id=f["face_id"], error=str(f["error"]))
            for f in report.failed
        ],
        index=schemas.IndexStatusOut.model_validate(index.status()),
        negatives_reembedded=report.negatives_reembedded,
    )

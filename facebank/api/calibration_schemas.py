"""JSON shapes of the threshold calibration (GET/POST /api/v1/index/calibration)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from facebank.api.schemas import IndexStatusOut
from facebank.services.calibration import MAX_TARGET_FAR


class RecommendationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    target_far: float = Field(description="wanted share of strangers' searches given a name")
    threshold: float
    estimated_tar: float | None = Field(
        description="share of enrolled faces a search names rightly at this threshold "
        "(from the gallery's same-person pairs); null when nobody has two faces"
    )
    method: Literal["empirical", "exponential_tail"]


class CalibrationOut(BaseModel):
    """What the gallery's own scores recommend; nothing is changed."""

    model_config = ConfigDict(from_attributes=True)

    faces: int
    people: int
    probes: int = Field(description="faces whose best different-person score was used")
    genuine_probes: int = Field(description="faces with another face of their own person")
    excluded_pairs: int = Field(
        description="different-person pairs left out as probably the same person twice"
    )
    exclusion_cut: float = Field(description="different-person scores from here on left out")
    highest_impostor: float = Field(description="highest different-person score kept")
    lowest_genuine: float | None = Field(description="lowest same-person pair score")
    recommendations: list[RecommendationOut]
    threshold: float = Field(description="the threshold in force now")


class CalibrationApply(BaseModel):
    target_far: float = Field(0.01, gt=0.0, le=MAX_TARGET_FAR)


class AppliedCalibrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    threshold: float
    target_far: float
    estimated_tar: float | None
    method: str
    faces: int
    people: int
    probes: int
    excluded_pairs: int
    applied_by: str
    applied_at: datetime


class CalibrationClearedOut(BaseModel):
    threshold: float = Field(description="the configured threshold, in force again")


class IndexOverviewOut(IndexStatusOut):
    threshold: float = Field(description="the match threshold searches use when given none")
    threshold_source: Literal["calibration", "default"]
    default_threshold: float = Field(description="FACEBANK_MATCH_THRESHOLD")
    calibration: AppliedCalibrationOut | None = Field(
        description="the applied calibration and its basis; null: the default is in force"
    )

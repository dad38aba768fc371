"""The detector input sized to the photo (FACEBANK_DET_INPUT) against the square letterbox."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facebank.config import Settings
from facebank.models.detector import fitted_input_size
from facebank.pipeline.factory import build_pipeline
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import Detection
from tests.pipeline.conftest import GROUPS, photos


def test_settings_default_to_the_fitted_input() -> None:
    assert Settings(_env_file=None).det_input == "fitted"


@pytest.mark.parametrize(
    ("height", "width", "upscale", "expected"),
    [
        (1280, 1920, True, (640, 448)),  # 427 rows of photo, rounded up to 448
        (1920, 1280, True, (448, 640)),
        (243, 320, True, (640, 512)),  # enlarged as the square letterbox would
        (243, 320, False, (320, 256)),  # kept at its own size
        (2000, 2000, False, (640, 640)),  # large photos shrink either way
    ],
)
def test_fitted_size(height: int, width: int, upscale: bool, expected: tuple[int, int]) -> None:
    assert fitted_input_size(height, width, 640, upscale) == expected
    w, h = expected
    assert w % 32 == 0 and h % 32 == 0


def _pipeline(det_input: str) -> FacePipeline:
    settings = Settings(_env_file=None, det_input=det_input)
    return build_pipeline(settings, narrow_lanes=0)


@pytest.fixture(scope="module")
def square() -> FacePipeline:
    return _pipeline("square")


@pytest.fixture(scope="module")
def fitted() -> FacePipeline:
    return _pipeline("fitted")


def _corners(found: list[Detection]) -> np.ndarray:
    return np.array([d.box for d in found], dtype=np.float64)


@pytest.mark.parametrize("path", photos(GROUPS), ids=lambda p: p.name)
def test_fitted_input_finds_the_faces_of_group_photos(
    square: FacePipeline, fitted: FacePipeline, path: Path
) -> None:
    image = square.decode(path.read_bytes())
    boxed, sized = square.detect(image), fitted.detect(image)
    assert len(boxed) >= 2
    assert len(sized) == len(boxed)
    # Every face found on the square input is found again, its box within a few pixels
    # (the padding the fitted input drops only touches the border of the receptive field).
    gaps = np.abs(_corners(boxed)[:, None, :] - _corners(sized)[None, :, :]).max(axis=2)
    side = np.array([min(d.box[2] - d.box[0], d.box[3] - d.box[1]) for d in boxed])
    assert np.all(gaps.min(axis=1) <= np.maximum(2.0, 0.05 * side))

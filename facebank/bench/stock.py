"""The stock pipeline: insightface's own `FaceAnalysis` on facebank's model files.

What a user would otherwise wrap in a few lines of web framework: the `insightface`
package (the `bench` extra pins it) with detection and recognition only, det_size 640, the
photo decoded by OpenCV, on exactly the detector and recogniser files facebank serves (the
pack in FACEBANK_MODEL_DIR or the bundled one). `stock_engine` is an `Engine` for the
ceiling's and the paired measurements' worker processes.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
import weakref
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from facebank.bench.ceiling import pipeline_max_faces
from facebank.config import Settings
from facebank.models.pack import locate_model_pack

STOCK_PACKAGE = "insightface"
STOCK_DET_SIZE = (640, 640)
STOCK_MODULES = ["detection", "recognition"]


def stock_analysis(threads: int, settings: Settings) -> Any:
    """A prepared `FaceAnalysis` whose ONNX Runtime sessions use `threads` threads."""
    from insightface.app import FaceAnalysis

    # insightface's norm_crop calls a scikit-image method deprecated in favour of another
    # with the same result; once per face, so it would bury the bench's output.
    warnings.filterwarnings("ignore", "`estimate` is deprecated", FutureWarning)
    pack = locate_model_pack(settings.model_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # FaceAnalysis loads every .onnx of a folder; the bundled folder holds other nets, so
    # it gets a folder with just the pack's two files. The folder lives as long as the app:
    # the detector reads its file again to build a static-shape session per input size.
    folder = Path(tempfile.mkdtemp(prefix="facebank-stock-"))
    for model in (pack.detector_path, pack.embedder_path):
        (folder / model.name).symlink_to(model.resolve())
    app = FaceAnalysis(
        name=str(folder),
        allowed_modules=STOCK_MODULES,
        providers=["CPUExecutionProvider"],
        sess_options=options,
    )
    weakref.finalize(app, shutil.rmtree, folder, ignore_errors=True)
    app.prepare(ctx_id=-1, det_thresh=settings.det_threshold, det_size=STOCK_DET_SIZE)
    return app


def decode_bgr(data: bytes) -> np.ndarray:
    # IMREAD_COLOR applies the EXIF orientation, as facebank's decoder does.
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError("OpenCV could not decode the photo")
    return np.asarray(pixels)


def stock_engine(threads: int) -> Callable[[bytes], list[Any]]:
    """Decode + FaceAnalysis.get, keeping as many faces as facebank's /recognize does."""
    app = stock_analysis(threads, Settings())
    max_faces = pipeline_max_faces()
    return lambda data: list(app.get(decode_bgr(data), max_num=max_faces))


def stock_version() -> str:
    return f"{STOCK_PACKAGE}=={version(STOCK_PACKAGE)}"

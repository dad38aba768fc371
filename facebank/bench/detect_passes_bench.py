"""What the extra detector passes cost, and how often they run.

    python -m facebank.bench.detect_passes_bench PHOTO_DIR [PHOTO_DIR ...] [--repeat 3]

Every photo under the folders is detected with the configured passes (FACEBANK_DETECT_*),
and so are every photo's face-filling crop (cut to its largest face box), where the rescue
passes run, and 12 noise frames (no face: every rescue runs). Each detector call is timed
and named by what it was: the first pass, the half-size rescue, the padded rescue or the
crowd pass. Prints JSON: per pass, how many inputs needed it and its median and p90
milliseconds per input.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from facebank.config import Settings
from facebank.models.detection import Detection
from facebank.pipeline.detect_passes import DetectPasses, FaceDetector
from facebank.pipeline.factory import build_pipeline, detect_passes
from facebank.pipeline.shrink import shrink_to

SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"}


class TimedDetector:
    """Wraps the detector and records (pass name, seconds) for each call of one photo."""

    def __init__(self, detector: FaceDetector, passes: DetectPasses) -> None:
        self.detector = detector
        self.passes = passes
        self.calls: list[tuple[str, float]] = []

    def detect(
        self, img_bgr: NDArray[np.uint8], input_size: tuple[int, int], threshold: float
    ) -> list[Detection]:
        start = time.perf_counter()
        found = self.detector.detect(img_bgr, input_size, threshold)
        self.calls.append((self._name(input_size[0]), time.perf_counter() - start))
        return found

    def _name(self, size: int) -> str:
        if not self.calls:
            return "first"
        if size == self.passes.crowd_det_size:
            return "crowd"
        return "rescue_half" if size < self.passes.det_size else "rescue_padded"


def _face_crop(pixels: NDArray[np.uint8], face: Detection) -> NDArray[np.uint8]:
    x1, y1, x2, y2 = (max(0, int(v)) for v in face.box)
    return np.ascontiguousarray(pixels[y1:y2, x1:x2])


def _faceless() -> list[NDArray[np.uint8]]:
    """Noise frames of several sizes: photos with no face, where every rescue runs."""
    rng = np.random.default_rng(0)
    sizes = [(240, 320), (480, 640), (768, 1024), (1080, 1920)]
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes for _ in range(3)]


def measure(folders: list[Path], repeat: int) -> dict[str, Any]:
    settings = Settings()
    pipeline = build_pipeline(settings, narrow_lanes=0)
    passes = detect_passes(settings)
    timed = TimedDetector(pipeline.lanes.first.detector, passes)
    seconds: dict[str, list[float]] = {}
    photos = sorted(p for f in folders for p in f.rglob("*") if p.suffix.lower() in SUFFIXES)
    inputs: list[NDArray[np.uint8]] = []
    for path in photos:
        image = pipeline.decode(path.read_bytes())
        inputs.append(shrink_to(image.pixels, settings.max_detect_side)[0])
        faces = pipeline.detect(image, max_faces=1)
        crop = _face_crop(image.pixels, image.in_pixels(faces[0])) if faces else None
        if crop is not None and min(crop.shape[:2]) >= 20:
            inputs.append(shrink_to(crop, settings.max_detect_side)[0])
    inputs += _faceless()
    for _ in range(repeat):
        for pixels in inputs:
            timed.calls = []
            passes.detect(timed, pixels)
            for name, s in timed.calls:
                seconds.setdefault(name, []).append(s)
    return {
        "inputs": len(inputs),
        "photos": len(photos),
        "repeat": repeat,
        "passes": {
            name: {
                "runs_per_repeat": len(v) // repeat,
                "median_ms": round(1000 * float(np.median(v)), 1),
                "p90_ms": round(1000 * float(np.percentile(v, 90)), 1),
            }
            for name, v in seconds.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(measure(args.folders, args.repeat), indent=2))


if __name__ == "__main__":
    main()

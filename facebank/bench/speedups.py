"""Before/after timings of the pipeline speed-ups (docs/bench.md, "Pipeline speed-ups").

`python -m facebank.bench.speedups [--rounds N]`. Every model runs on single-thread
sessions, and each "before" run is followed at once by its "after" run on the same input,
so load from other processes falls on both alike; medians of those pairs are printed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from facebank.bench.photos import load_photo_set
from facebank.models.detector import ScrfdDetector, fitted_input_size
from facebank.models.embedder import ArcFaceEmbedder
from facebank.models.model_cache import ModelCache
from facebank.models.pack import locate_model_pack
from facebank.models.session_factory import OrtSessionFactory
from facebank.pipeline.align import norm_crop
from facebank.pipeline.decode import decode_image
from facebank.pipeline.shrink import shrink_to
from facebank.pipeline.types import Detection, ImageLimits

FACES = Path(__file__).resolve().parents[3] / "shared" / "faces"
LIMITS = ImageLimits(max_bytes=1 << 30, max_pixels=100_000_000, max_detect_side=1920)
SQUARE = (640, 640)
Image = NDArray[np.uint8]
T = TypeVar("T")


def _paired_ms(
    before: Callable[[T], object], after: Callable[[T], object], items: Sequence[T], rounds: int
) -> tuple[float, float]:
    """Median ms per item of `before` and of `after`, each run right after the other."""
    b: list[float] = []
    a: list[float] = []
    for _ in range(rounds):
        for item in items:
            t = time.perf_counter()
            before(item)
            b.append(time.perf_counter() - t)
            t = time.perf_counter()
            after(item)
            a.append(time.perf_counter() - t)
    return statistics.median(b) * 1e3, statistics.median(a) * 1e3


def _photos(folder: Path) -> list[Image]:
    out = []
    for photo in load_photo_set(folder.name, folder).photos:
        pixels = decode_image(photo.data, LIMITS).pixels
        out.append(shrink_to(pixels, LIMITS.max_detect_side)[0])
    return out


def recogniser(det: ScrfdDetector, photos: list[Image], rounds: int) -> None:
    pack = locate_model_pack(None)
    factory = OrtSessionFactory("CPUExecutionProvider", intra_op_threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        rewritten = ModelCache(Path(tmp)).recogniser(pack.embedder_path)
        stock = ArcFaceEmbedder(pack.embedder_path, factory)
        fast = ArcFaceEmbedder(rewritten, factory)
        flip = ArcFaceEmbedder(rewritten, factory, flip=True)
        stock.load(), fast.load(), flip.load()
    crops = [norm_crop(p, d.landmarks) for p in photos for d in det.detect(p, SQUARE, 0.5)[:1]]
    cos = float(np.min(np.sum(stock.embed(crops) * fast.embed(crops), axis=1)))
    b, a = _paired_ms(lambda c: stock.embed([c]), lambda c: fast.embed([c]), crops, rounds)
    print(
        f"recogniser PReLU->Max: {b:.2f} -> {a:.2f} ms/face, {len(crops)} faces, "
        f"min cosine {cos:.7f}"
    )
    b, a = _paired_ms(lambda c: fast.embed([c]), lambda c: flip.embed([c]), crops, rounds)
    print(f"flip-averaged embedding: {b:.2f} -> {a:.2f} ms/face")


def _alternating_ms(
    variants: Mapping[int, Callable[[], object]], per: int, rounds: int
) -> dict[int, float]:
    """Median ms per item of each variant; the order flips every round so drift falls on
    all alike. Each call handles `per` items."""
    runs: dict[int, list[float]] = {k: [] for k in variants}
    for r in range(rounds):
        for key in list(variants) if r % 2 == 0 else list(variants)[::-1]:
            t = time.perf_counter()
            variants[key]()
            runs[key].append((time.perf_counter() - t) * 1e3 / per)
    return {k: statistics.median(v) for k, v in runs.items()}


def batching(det: ScrfdDetector, emb: ArcFaceEmbedder, photos: list[Image], rounds: int) -> None:
    """Issue 14's cross-request batching: one model call per face (per photo) against one
    call for several requests' faces (photos), on a single-thread lane's sessions."""
    crops = [norm_crop(p, d.landmarks) for p in photos for d in det.detect(p, SQUARE, 0.5)[:1]]
    sizes = (1, 2, 4, 8)
    totals: dict[int, list[float]] = {b: [] for b in sizes}
    for start in range(0, len(crops) - 7, 8):
        group = crops[start : start + 8]
        calls = {
            b: (lambda b=b, group=group: [emb.embed(group[i : i + b]) for i in range(0, 8, b)])
            for b in sizes
        }
        for b, per_face in _alternating_ms(calls, 8, rounds).items():
            totals[b].append(per_face)
    base = statistics.median(totals[1])
    print(
        "recogniser batching: "
        + ", ".join(
            f"batch {b} {statistics.median(totals[b]):.2f} ms/face "
            f"({statistics.median(totals[b]) / base:.3f}x)"
            for b in sizes
        )
    )
    # Two photos batch only at one input size: the 640 square, the stock input.
    boxes = [det._letterbox(p, SQUARE)[0] for p in photos[:2]]
    blob = cv2.dnn.blobFromImages(boxes, 1.0 / 128.0, SQUARE, (127.5,) * 3, swapRB=True)
    two = np.ascontiguousarray(blob, dtype=np.float32)
    one = two[:1].copy()
    ms = _alternating_ms(
        {1: lambda: (det.run(one), det.run(one)), 2: lambda: det.run(two)}, 2, rounds * 20
    )
    print(
        f"detector batching (640x640): {ms[1]:.2f} -> {ms[2]:.2f} ms/photo "
        f"({ms[2] / ms[1]:.3f}x) for a batch of 2"
    )


def detector(det: ScrfdDetector, name: str, photos: list[Image], mode: str, rounds: int) -> None:
    def size(p: Image) -> tuple[int, int]:
        return fitted_input_size(p.shape[0], p.shape[1], SQUARE[0], upscale=mode == "fitted")

    b, a = _paired_ms(
        lambda p: det.detect(p, SQUARE, 0.5), lambda p: det.detect(p, size(p), 0.5), photos, rounds
    )
    found = [(det.detect(p, SQUARE, 0.5), det.detect(p, size(p), 0.5)) for p in photos]
    same = sum(len(x) == len(y) for x, y in found)
    shift = max(_box_shift(x, y) for x, y in found)
    print(
        f"detector {mode} on {name}: {b:.2f} -> {a:.2f} ms/photo; face count equal on "
        f"{same}/{len(photos)} ({sum(len(x) for x, _ in found)} -> "
        f"{sum(len(y) for _, y in found)} faces); largest box shift {shift:.1f} px"
    )


def _box_shift(before: list[Detection], after: list[Detection]) -> float:
    """Largest corner move from a square-input face to its nearest fitted-input face."""
    if not before or not after:
        return 0.0
    b = np.array([d.box for d in before])
    a = np.array([d.box for d in after])
    return float(np.abs(b[:, None, :] - a[None, :, :]).max(axis=2).min(axis=1).max())


def saved_optimisations(rounds: int) -> None:
    """Session start from the stock file against one ORT saved fully optimised."""
    pack = locate_model_pack(None)

    def options(level: ort.GraphOptimizationLevel, save: str = "") -> ort.SessionOptions:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        opts.graph_optimization_level = level
        opts.log_severity_level = 3
        if save:
            opts.optimized_model_filepath = save
        return opts

    level = ort.GraphOptimizationLevel
    with tempfile.TemporaryDirectory() as tmp:
        for src in (pack.detector_path, pack.embedder_path):
            saved = f"{tmp}/{src.name}"
            ort.InferenceSession(str(src), options(level.ORT_ENABLE_ALL, saved))
            b, a = _paired_ms(
                lambda pair: ort.InferenceSession(pair[0], options(level.ORT_ENABLE_ALL)),
                lambda pair: ort.InferenceSession(pair[1], options(level.ORT_DISABLE_ALL)),
                [(str(src), saved)],
                rounds * 4,
            )
            print(f"session start {src.name}: {b:.1f} -> {a:.1f} ms from a saved optimised file")


def rewrite_start(rounds: int) -> None:
    """A fresh process preparing the recogniser: first start (rewrite) and later (cached)."""
    code = (
        "import sys, time; from pathlib import Path; t = time.perf_counter(); "
        "from facebank.models.model_cache import ModelCache; "
        "from facebank.models.pack import locate_model_pack; "
        "ModelCache(Path(sys.argv[1])).recogniser(locate_model_pack(None).embedder_path); "
        "print(time.perf_counter() - t)"
    )
    first: list[float] = []
    later: list[float] = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            for runs in (first, later):
                # This interpreter running the fixed snippet above: nothing untrusted.
                out = subprocess.run(  # noqa: S603
                    [sys.executable, "-c", code, tmp],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                runs.append(float(out) * 1e3)
    print(
        f"recogniser preparation: first start {statistics.median(first):.0f} ms, "
        f"later starts {statistics.median(later):.0f} ms (cached file)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--only-batching", action="store_true", help="only the cross-request batching measurement"
    )
    parser.add_argument("--faces", type=Path, default=FACES, help="../shared/faces")
    args = parser.parse_args()
    pack = locate_model_pack(None)
    factory = OrtSessionFactory("CPUExecutionProvider", intra_op_threads=1)
    det = ScrfdDetector(pack.detector_path, factory)
    people = _photos(args.faces / "people")
    if not args.only_batching:
        rewrite_start(args.rounds)
        saved_optimisations(args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        emb = ArcFaceEmbedder(ModelCache(Path(tmp)).recogniser(pack.embedder_path), factory)
        emb.load()
    batching(det, emb, people, args.rounds)
    if args.only_batching:
        return
    recogniser(det, people, args.rounds)
    for name in ("people", "group_photos", "yale"):
        photos = people if name == "people" else _photos(args.faces / name)
        for mode in ("fitted", "native"):
            detector(det, name, photos, mode, args.rounds)


if __name__ == "__main__":
    main()

"""Do facebank's embeddings equal the stock pipeline's for the same faces of the same photos?

Both run in one spawned process (fresh ORT state, as the timing workers): facebank's bare
pipeline with the server's settings, and `FaceAnalysis` on the same model files. A facebank
face is paired with the stock face whose box overlaps it most (IoU >= 0.5); faces only one
side found are counted, not compared. facebank detects photos larger than
FACEBANK_MAX_DETECT_SIDE on a downscaled copy (stock always detects on the full photo), so
their landmarks, and so their embeddings, may differ slightly; with that limit raised
past the photos' size the two are equal.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from facebank.bench.ceiling import bare_pipeline, pipeline_max_faces
from facebank.bench.photos import load_photo_set
from facebank.bench.stock import decode_bgr, stock_analysis
from facebank.config import Settings

EQUAL_COSINE = 0.999
MIN_IOU = 0.5


@dataclass(frozen=True)
class EmbeddingCheck:
    photos: int
    faces_compared: int
    faces_unpaired: int  # found by only one of the two pipelines
    min_cosine: float | None  # None when no face was compared
    min_cosine_photo: str | None  # where it was: to look at when they differ
    equal: bool  # every compared face at cosine >= EQUAL_COSINE

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def iou(a: NDArray[np.float32], b: NDArray[np.float32]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, float(w)) * max(0.0, float(h))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0


def paired_cosines(
    mine: list[tuple[NDArray[np.float32], NDArray[np.float32]]],
    stock: list[tuple[NDArray[np.float32], NDArray[np.float32]]],
) -> tuple[list[float], int]:
    """Cosines of the (box, unit embedding) pairs matched by box, and the unmatched count."""
    cosines: list[float] = []
    free = list(range(len(stock)))
    for box, embedding in mine:
        best = max(free, key=lambda i: iou(box, stock[i][0]), default=None)
        if best is None or iou(box, stock[best][0]) < MIN_IOU:
            continue
        free.remove(best)
        cosines.append(float(np.dot(embedding, stock[best][1])))
    return cosines, len(mine) + len(stock) - 2 * len(cosines)


def check_embeddings_here(folder: Path, threads: int) -> EmbeddingCheck:
    """The check in this process (the bench runs it in a spawned one)."""
    photos = load_photo_set("stock-check", folder).photos
    pipeline = bare_pipeline(threads)
    app = stock_analysis(threads, Settings())
    max_faces = pipeline_max_faces()
    cosines: list[float] = []
    lowest: tuple[float, str] | None = None
    unpaired = 0
    for photo in photos:
        _, faces = pipeline.analyze(photo.data, max_faces)
        mine = [(np.asarray(f.detection.box, np.float32), f.embedding) for f in faces]
        found = app.get(decode_bgr(photo.data), max_num=max_faces)
        stock = [(np.asarray(f.bbox, np.float32), f.normed_embedding) for f in found]
        photo_cosines, photo_unpaired = paired_cosines(mine, stock)
        cosines += photo_cosines
        unpaired += photo_unpaired
        if photo_cosines and (lowest is None or min(photo_cosines) < lowest[0]):
            lowest = (min(photo_cosines), photo.name)
    low = lowest[0] if lowest else None
    return EmbeddingCheck(
        photos=len(photos),
        faces_compared=len(cosines),
        faces_unpaired=unpaired,
        min_cosine=round(low, 6) if low is not None else None,
        min_cosine_photo=lowest[1] if lowest else None,
        equal=low is not None and low >= EQUAL_COSINE,
    )


def check_embeddings(folder: Path, threads: int) -> EmbeddingCheck:
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(check_embeddings_here, folder, threads).result()

"""Measures what `negative_match` must separate, over every photo of ../shared/faces/people:
cosine between different photos of one person, between different people, and between each
photo and near-duplicates of it (re-encoded, downscaled, cropped, slightly rotated).

    python -m tests.index.measure_negative_match    # ~1 minute on 2 CPU cores

The numbers are in docs/negatives.md; test_negative_match.py guards the chosen default.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from facebank.config import Settings
from facebank.pipeline.factory import build_pipeline
from tests.conftest import identity_photos

Variant = Callable[[Image.Image], Image.Image]


def _scaled(s: float) -> Variant:
    return lambda im: im.resize((int(im.width * s), int(im.height * s)), Image.Resampling.BILINEAR)


def _cropped(c: float) -> Variant:
    return lambda im: im.crop(
        (int(im.width * c), int(im.height * c), im.width - int(im.width * c),
         im.height - int(im.height * c))
    )  # fmt: skip


VARIANTS: dict[str, tuple[Variant, int]] = {
    **{f"jpeg q{q}": ((lambda im: im), q) for q in (90, 75, 50, 30)},
    **{f"resize x{s}": (_scaled(s), 85) for s in (0.75, 0.5, 0.35)},
    **{f"crop {c:.0%}": (_cropped(c), 90) for c in (0.03, 0.08)},
    "rotate 3 deg": ((lambda im: im.rotate(3, resample=Image.Resampling.BILINEAR)), 90),
}


def _percentiles(values: NDArray[np.float64]) -> str:
    return " ".join(f"p{p}={np.percentile(values, p):.3f}" for p in (0, 1, 5, 50, 95, 99, 100))


def main() -> None:
    pipeline = build_pipeline(Settings(_env_file=None))

    def embed(data: bytes) -> NDArray[np.float32] | None:
        faces = pipeline.analyze(data, 1)[1]
        return faces[0].embedding if faces else None

    originals: dict[tuple[str, str], NDArray[np.float32]] = {}
    copies: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for identity, paths in identity_photos().items():
        for path in paths:
            vector = embed(path.read_bytes())
            if vector is None:
                continue
            originals[(identity, path.name)] = vector
            image = Image.open(path).convert("RGB")
            for name, (change, quality) in VARIANTS.items():
                buffer = io.BytesIO()
                change(image).save(buffer, "JPEG", quality=quality)
                copy = embed(buffer.getvalue())
                if copy is not None:
                    copies[name].append(float(vector @ copy))
    Pair = tuple[float, tuple[str, str], tuple[str, str]]
    same: list[Pair] = []
    other: list[Pair] = []
    for a, b in itertools.combinations(originals, 2):
        (same if a[0] == b[0] else other).append((float(originals[a] @ originals[b]), a, b))
    duplicates = np.array([c for values in copies.values() for c in values])
    print(f"photos with a face: {len(originals)}")
    print(
        f"same person, different photos ({len(same)}):",
        _percentiles(np.array([s[0] for s in same])),
    )
    print(f"different people ({len(other)}):", _percentiles(np.array([s[0] for s in other])))
    print(f"near-duplicates ({duplicates.size}):", _percentiles(duplicates))
    for name, values in copies.items():
        print(f"  {name}: min {min(values):.3f}, median {np.median(values):.3f}")
    for score, a, b in sorted(same, reverse=True)[:3]:
        print(f"  highest same-person pair: {a} {b} {score:.3f}")
    for t in (0.80, 0.85, 0.88, 0.90, 0.92):
        missed = int(np.sum(duplicates < t))
        blocked = sum(1 for s in same if s[0] >= t)
        print(f"t={t:.2f}: near-duplicates below {missed}/{duplicates.size}, "
              f"same-person pairs at or above {blocked}/{len(same)}")  # fmt: skip


if __name__ == "__main__":
    main()

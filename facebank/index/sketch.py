"""A compact sketch of every face, for finding the few worth scoring in a large gallery.

Each face gets a 256-bit SimHash code: the signs of its inner products with 256 fixed
random Gaussian hyperplanes, so the Hamming distance between two codes estimates the
angle between the faces (bits differ with probability angle / pi). A query is answered
in two passes over the codes, then exactly:
1. the first PREFIX_BITS bits of every face's code (its own contiguous array, 16 bytes a
   face: a scan reads 16 MB at 1M faces instead of 32) keep the PREFIX_CANDIDATES nearest;
2. the full 256-bit codes of those re-rank them to the SKETCH_CANDIDATES nearest;
3. those are scored exactly from the stored float vectors (gallery_index), so scores are
   exact cosines: only the choice of which faces to score is approximate.
The prefix is itself a SimHash code (the first 128 hyperplanes), derived from the full
codes, so snapshots store only the full codes and load as before.

Why not the IVF or HNSW of faiss (measured; docs/index.md has the figures): at 200k
faces of real queries among distractors, IVF-Flat agreed with the exact rank-1 on only
87% of queries even probing 14% of the gallery, because a same-person match at cosine
0.5 is far away in 512 dimensions and often lies in another cell; HNSW cannot remove
faces, builds for minutes at 1M on these cores, and adds ~256 bytes a face of graph.
The sketch needs no training, and adds, removes and loads with the flat index, slot for
slot, at 32 bytes a face.
"""

from __future__ import annotations

from functools import cache

import faiss
import numpy as np
from numpy.typing import NDArray

# Where the flat scan of one query passes ~1 ms on this machine (one thread, 512-d):
# below it the sketch would not pay for its extra pass.
SKETCH_THRESHOLD = 20_000
SKETCH_BITS = 256
# Faces scored exactly per query (at least; a wide top_k asks for more). A typical mate
# (cosine 0.7, 46 degrees) differs in ~65 of 256 bits where the bulk of strangers differs
# in 128 +- 8, far inside the nearest 512 codes of a million; the weakest mates (0.36)
# and the closest distractors compete near the cut, which is what the bench measures
# (docs/index.md). 512 costs no more than 256 to scan (measured, 1M codes, one thread).
SKETCH_CANDIDATES = 512
# The first pass (docs/index.md, "Two-stage sketch"): half the bits scan 1M codes in
# 1.3 ms against 1.6 ms (one thread; the kernel is not purely bandwidth bound). The
# exact rank-1 ranked at worst ~400th (1M) / ~640th (100k) by the 128-bit prefix and
# ~260th by the full code among those 2048, so both cuts keep a margin; 64 bits needed
# 16k candidates to catch up, which costs more than it saves.
PREFIX_BITS = 128
PREFIX_CANDIDATES = 2048
# The hyperplanes are fixed, so codes saved in a snapshot stay valid across restarts.
_ROTATION_SEED = 20261203
_ENCODE_CHUNK = 65_536


class Sketch:
    """Codes in the same slot order as the flat index they sketch (append, and remove
    with compaction, exactly as faiss' flat index does), so slot i of one is slot i of
    the other and no id map is needed."""

    def __init__(self, dim: int, codes: faiss.IndexBinary | None = None) -> None:
        self._projection = _hyperplanes(dim)
        self.bits = SKETCH_BITS
        if codes is not None and not isinstance(codes, faiss.IndexBinaryFlat):
            raise ValueError(f"sketch codes are {type(codes).__name__}, not IndexBinaryFlat")
        self.codes = codes if codes is not None else faiss.IndexBinaryFlat(self.bits)
        # Slot-aligned with `codes` like they are with the flat index.
        self._prefix = faiss.IndexBinaryFlat(PREFIX_BITS)
        for index in (self.codes, self._prefix):
            # Counting sort over the possible distances instead of a heap: measured
            # 2.1 ms against 2.2-3.0 ms for the nearest 512 of 1M 256-bit codes.
            index.use_heap = False  # type: ignore[attr-defined]  # not in the stubs
        for start in range(0, self.ntotal, _ENCODE_CHUNK):
            self._prefix.add(_prefix_of(self._code_view()[start : start + _ENCODE_CHUNK]))

    def signature(self) -> dict[str, int]:
        """What the codes depend on; saved codes are reused only if it is unchanged."""
        return {"bits": SKETCH_BITS, "seed": _ROTATION_SEED, "count": self.ntotal}

    @property
    def ntotal(self) -> int:
        return int(self.codes.ntotal)

    def add(self, vectors: NDArray[np.float32]) -> None:
        # In chunks: the projected floats of a million faces would be a 1 GB temporary.
        for start in range(0, vectors.shape[0], _ENCODE_CHUNK):
            codes = self.encode(vectors[start : start + _ENCODE_CHUNK])
            self.codes.add(codes)
            self._prefix.add(_prefix_of(codes))

    def remove_slots(self, slots: NDArray[np.int64]) -> None:
        for index in (self.codes, self._prefix):
            removed = int(index.remove_ids(faiss.IDSelectorBatch(slots)))
            if removed != slots.size:
                raise RuntimeError(f"sketch removed {removed} of {slots.size} codes")

    def candidates(self, queries: NDArray[np.float32], count: int) -> NDArray[np.int64]:
        """(n, count) slots of the nearest codes to each query; -1 pads a short row."""
        count = min(count, self.ntotal)
        codes = self.encode(queries)
        first = max(PREFIX_CANDIDATES, 4 * count)
        if first >= self.ntotal:  # the first pass would keep everything: skip it
            _, slots = self.codes.search(codes, count)
            return np.asarray(slots, dtype=np.int64)
        _, near = self._prefix.search(_prefix_of(codes), first)
        out = np.full((codes.shape[0], count), -1, dtype=np.int64)
        full = self._code_view()
        for row, (code, cand) in enumerate(zip(codes, near, strict=True)):
            cand = cand[cand >= 0]
            out[row, : min(count, cand.size)] = cand[_nearest(code, full[cand], count)]
        return out

    def _code_view(self) -> NDArray[np.uint8]:
        """The full codes, (ntotal, bits / 8), without a copy; valid until the next write."""
        xb = self.codes.xb  # type: ignore[attr-defined]  # not in the stubs
        raw = faiss.rev_swig_ptr(xb.data(), self.ntotal * self.bits // 8)
        return np.asarray(raw).reshape(-1, self.bits // 8)

    def encode(self, vectors: NDArray[np.float32]) -> NDArray[np.uint8]:
        return np.packbits(vectors @ self._projection > 0, axis=1)


def _nearest(code: NDArray[np.uint8], codes: NDArray[np.uint8], count: int) -> NDArray[np.intp]:
    """Positions of the `count` rows of `codes` nearest to `code` (any order)."""
    if codes.shape[0] <= count:
        return np.arange(codes.shape[0])
    distance = np.empty(codes.shape[0], dtype=np.int32)
    # faiss' kernel over the gathered rows: measured 0.09 ms for 2048 against 0.15 ms in numpy.
    faiss.hammings(  # type: ignore[attr-defined]  # not in the stubs
        faiss.swig_ptr(np.ascontiguousarray(code)), faiss.swig_ptr(codes),
        1, codes.shape[0], codes.shape[1], faiss.swig_ptr(distance),
    )  # fmt: skip
    return np.argpartition(distance, count - 1)[:count]


def _prefix_of(codes: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return np.ascontiguousarray(codes[:, : PREFIX_BITS // 8])


@cache
def _hyperplanes(dim: int) -> NDArray[np.float32]:
    # Not orthogonalised: 256 Gaussian directions in 512-d are within a few degrees of
    # orthogonal already, and a QR took up to 2 s on the busy machine at every load.
    planes = np.random.default_rng(_ROTATION_SEED).standard_normal((dim, SKETCH_BITS))
    return np.ascontiguousarray(planes, dtype=np.float32)

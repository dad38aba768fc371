"""ArcFace recogniser: aligned 112x112 faces in, L2-normalised embeddings out.

Mirrors insightface 2.1's ArcFaceONNX.get_feat (mean/std 127.5, BGR->RGB) so embeddings
equal the reference's; tests/pipeline/test_parity.py checks it.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from facebank.errors import ModelPackError
from facebank.models.base import OnnxModel
from facebank.models.session_factory import OrtSessionFactory

FloatArray = NDArray[np.float32]


class ArcFaceEmbedder(OnnxModel):
    """Runs an ArcFace-style ONNX recogniser (w600k_mbf, w600k_r50, ...).

    Models whose graph normalises its own input (old MXNet exports) need
    input_mean=0, input_std=1; the InsightFace ONNX packs all use 127.5.
    """

    def __init__(
        self,
        path: Path,
        factory: OrtSessionFactory,
        input_mean: float = 127.5,
        input_std: float = 127.5,
        flip: bool = False,
    ) -> None:
        super().__init__(path, factory)
        self.input_mean = input_mean
        self.input_std = input_std
        # Embed each crop and its mirror image and average them (twice the work).
        self.flip = flip
        self._dim: int | None = None

    def _check_io(self, session: ort.InferenceSession) -> None:
        shape = session.get_inputs()[0].shape
        if len(shape) != 4 or shape[1] != 3 or len(session.get_outputs()) != 1:
            raise ModelPackError(
                f"{self.path.name} is not an ArcFace recogniser "
                f"(input {shape}, {len(session.get_outputs())} outputs)"
            )

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the aligned crop the network takes, normally (112, 112)."""
        shape = self.input_shape
        h, w = shape[2], shape[3]
        if not isinstance(h, int) or not isinstance(w, int):
            return (112, 112)
        return (w, h)

    @property
    def batch_size(self) -> int | None:
        """None when the batch axis is dynamic (one run for any number of faces)."""
        b = self.input_shape[0]
        return b if isinstance(b, int) and b > 0 else None

    @property
    def dim(self) -> int:
        """Embedding length, read from the graph or, if that axis is symbolic, one run."""
        if self._dim is None:
            d = self.session.get_outputs()[0].shape[-1]
            if isinstance(d, int) and d > 0:
                self._dim = d
            else:
                w, h = self.input_size
                self._dim = int(self._forward([np.zeros((h, w, 3), np.uint8)]).shape[1])
        return self._dim

    def _forward(self, faces: list[NDArray[np.uint8]]) -> FloatArray:
        blob = cv2.dnn.blobFromImages(
            faces,
            1.0 / self.input_std,
            self.input_size,
            (self.input_mean, self.input_mean, self.input_mean),
            swapRB=True,
        )
        blob32: FloatArray = np.ascontiguousarray(blob, dtype=np.float32)
        batch = self.batch_size
        if batch is None:
            return self.run(blob32)[0]
        # Fixed batch axis: run in chunks of that size, zero-padding the last one.
        out = []
        for start in range(0, len(faces), batch):
            chunk = blob32[start : start + batch]
            n = chunk.shape[0]
            if n < batch:
                pad = np.zeros((batch - n, *chunk.shape[1:]), dtype=np.float32)
                chunk = np.concatenate([chunk, pad])
            out.append(self.run(chunk)[0][:n])
        return np.concatenate(out)

    def embed(self, aligned: list[NDArray[np.uint8]]) -> FloatArray:
        """(n, D) float32 unit vectors for n aligned BGR crops, in one batched run."""
        if not aligned:
            return np.empty((0, self.dim), dtype=np.float32)
        if self.flip:
            mirrored = [np.asarray(cv2.flip(face, 1), np.uint8) for face in aligned]
            both = self._forward(aligned + mirrored).astype(np.float32, copy=False)
            feats = both[: len(aligned)] + both[len(aligned) :]
        else:
            feats = self._forward(aligned).astype(np.float32, copy=False)
        norms = np.linalg.norm(feats, axis=1, keepdims=True)
        # A zero vector cannot be normalised; leave it zero rather than emit NaNs.
        return np.asarray(feats / np.maximum(norms, 1e-12), dtype=np.float32)

"""Shared plumbing of every ONNX model: lazy, thread-safe session loading and raw runs."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from facebank.errors import ModelPackError
from facebank.models.session_factory import Dim, OrtSessionFactory


class OnnxModel(ABC):
    """One ONNX file behind one InferenceSession.

    The session is created on first use (or by `load()`), so a model object is cheap to
    build. ORT sessions allow concurrent `run()` calls, so after loading nothing here is
    mutated and instances can be shared across threads.
    """

    def __init__(self, path: Path, factory: OrtSessionFactory) -> None:
        self.path = Path(path)
        self.factory = factory
        self._session: ort.InferenceSession | None = None
        self._lock = threading.Lock()

    def load(self) -> ort.InferenceSession:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    if not self.path.is_file():
                        raise ModelPackError(f"model file not found: {self.path}")
                    session = self.factory.create(self.path)
                    self._check_io(session)
                    self._session = session
        return self._session

    @property
    def session(self) -> ort.InferenceSession:
        return self.load()

    @property
    def input_name(self) -> str:
        return str(self.session.get_inputs()[0].name)

    @property
    def input_shape(self) -> tuple[Dim, ...]:
        return tuple(self.session.get_inputs()[0].shape)

    @property
    def output_names(self) -> list[str]:
        return [o.name for o in self.session.get_outputs()]

    def run(self, blob: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        """One raw forward pass: NCHW float32 in, every output out."""
        outputs = self.session.run(self.output_names, {self.input_name: blob})
        return [np.asarray(o) for o in outputs]

    @abstractmethod
    def _check_io(self, session: ort.InferenceSession) -> None:
        """Raise ModelPackError when the file is not the kind of model this class runs."""

"""The one place where ONNX Runtime sessions are built.

Keeping session creation here means provider choice, threading and logging are
decided once, and every model (and the model-pack inspector) gets the same rules.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from facebank.models.model_cache import ModelCache

log = logging.getLogger(__name__)

CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"

# ORT's "error" level. The bundled w600k_mbf declares its output as (1, 512) although the
# batch axis is dynamic, so every batched run would log a shape warning otherwise.
_LOG_ERRORS_ONLY = 3

Dim = int | str | None


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[Dim, ...]


@dataclass(frozen=True)
class ModelSignature:
    """Inputs and outputs of an ONNX file, enough to tell a detector from a recogniser."""

    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]


def resolve_providers(spec: str, available: list[str] | None = None) -> list[str]:
    """Turn "auto" or "A,B" into an ordered provider list ORT can use here.

    "auto" prefers CUDA when this onnxruntime build has it. An explicit list naming a
    provider that is not installed is a configuration mistake, so it fails loudly
    instead of silently running somewhere else.
    """
    have = ort.get_available_providers() if available is None else available
    if spec.strip().lower() == "auto":
        return [CUDA, CPU] if CUDA in have else [CPU]
    wanted = [p.strip() for p in spec.split(",") if p.strip()]
    if not wanted:
        raise ValueError("ort_providers is empty; use 'auto' or a comma-separated list")
    missing = [p for p in wanted if p not in have]
    if missing:
        raise ValueError(f"ONNX Runtime providers {missing} are not available; have {have}")
    return wanted


def _shape(raw: object) -> tuple[Dim, ...]:
    if not isinstance(raw, list | tuple):
        return ()
    return tuple(d if isinstance(d, int | str) or d is None else str(d) for d in raw)


class OrtSessionFactory:
    """Builds InferenceSessions with one provider list and one threading policy.

    With a `cache`, ORT's optimised graph of each model is saved there on first use and
    later sessions load it with optimisation off, which starts them in about half the time
    (docs/bench.md, "Pipeline speed-ups")."""

    def __init__(
        self, providers: str = "auto", intra_op_threads: int = 0, cache: ModelCache | None = None
    ) -> None:
        if intra_op_threads < 0:
            raise ValueError("intra_op_threads must be >= 0")
        self.providers: list[str] = resolve_providers(providers)
        self.intra_op_threads = intra_op_threads
        self.cache = cache
        self._in_use: list[str] = []
        self._lock = threading.Lock()

    def _options(self) -> ort.SessionOptions:
        opts = ort.SessionOptions()
        # 0 lets ORT pick (one thread per physical core).
        opts.intra_op_num_threads = self.intra_op_threads
        # These graphs are plain chains of convolutions: parallel branches buy nothing,
        # and concurrency comes from callers running sessions from several threads.
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = _LOG_ERRORS_ONLY
        if self.intra_op_threads != 1:
            # Idle pool threads otherwise busy-wait after each run. Detector and embedder
            # run back to back, so one session's spinning workers steal the cores the
            # next one needs: measured on 2 cores, 2 threads were no faster than 1 with
            # spinning on, and ~1.5x faster with it off.
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return opts

    def create(self, path: Path) -> ort.InferenceSession:
        saved = self.cache.optimised(path, self.providers) if self.cache else None
        if saved is not None and saved.is_file():
            opts = self._options()
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
            session = self._session(saved, opts)
        elif saved is not None and self.cache is not None:
            session = self._create_and_save(path, saved, self.cache)
        else:
            session = self._session(path, self._options())
        # A provider can be requested yet fail to initialise (e.g. CUDA libraries
        # missing); the session then falls back silently, so record what it really got.
        with self._lock:
            for name in session.get_providers():
                if name not in self._in_use:
                    self._in_use.append(name)
        return session

    def _create_and_save(self, path: Path, saved: Path, cache: ModelCache) -> ort.InferenceSession:
        try:
            staged = cache.staging(saved)
        except OSError as exc:
            log.warning("model cache not writable (%s); not saving %s optimised", exc, path.name)
            return self._session(path, self._options())
        opts = self._options()
        opts.optimized_model_filepath = str(staged)
        try:
            session = self._session(path, opts)
            cache.publish(staged, saved)
        finally:
            staged.unlink(missing_ok=True)
        return session

    def _session(self, path: Path, opts: ort.SessionOptions) -> ort.InferenceSession:
        return ort.InferenceSession(str(path), sess_options=opts, providers=self.providers)

    @property
    def providers_in_use(self) -> list[str]:
        """Providers the created sessions actually run on (empty before any create)."""
        with self._lock:
            return list(self._in_use)


def read_signature(path: Path) -> ModelSignature:
    """Input/output names and shapes of an ONNX file, without preparing it for inference.

    Uses a throwaway CPU session with graph optimisation off, which loads a 170 MB
    recogniser in well under a second; onnx (the protobuf reader) is not a runtime dep.
    """
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    opts.log_severity_level = _LOG_ERRORS_ONLY
    session = ort.InferenceSession(str(path), sess_options=opts, providers=[CPU])
    return ModelSignature(
        inputs=tuple(TensorInfo(i.name, _shape(i.shape)) for i in session.get_inputs()),
        outputs=tuple(TensorInfo(o.name, _shape(o.shape)) for o in session.get_outputs()),
    )

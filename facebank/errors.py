"""One exception class per failure kind. The api layer maps them to HTTP in one place."""

from __future__ import annotations

from typing import Any


class FacebankError(Exception):
    """Base of every expected failure. `code` is stable and part of the API contract."""

    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class ImageInvalidError(FacebankError):
    code = "image_invalid"


class ImageTooLargeError(FacebankError):
    code = "image_too_large"


class NoFaceError(FacebankError):
    code = "no_face"


class MultipleFacesError(FacebankError):
    code = "multiple_faces"


class LowQualityError(FacebankError):
    """A face too small, blurred, turned or uncertain to enroll. The details name the
    failed check, its measured value and the limit it missed (`minimum` or `maximum`)."""

    code = "low_quality"


class NotFoundError(FacebankError):
    code = "not_found"


class ConflictError(FacebankError):
    code = "conflict"


class DuplicateFaceError(ConflictError):
    """The face matches another enrolled person above the duplicate threshold; the details
    name that person. The request may say the duplicate is intended."""

    code = "duplicate_face"


class ImportInProgressError(ConflictError):
    """An import job is already queued or running on this gallery: one at a time."""

    code = "import_in_progress"


class ValidationFailedError(FacebankError):
    code = "validation_error"


class ModelMismatchError(FacebankError):
    code = "model_mismatch"


class ModelPackError(FacebankError):
    code = "model_pack_invalid"


class ArchiveRefusedError(FacebankError):
    """An uploaded archive that is not a zip, or whose entries escape the folder it is
    unpacked into, or that unpacks to more entries or bytes than allowed."""

    code = "archive_refused"


class IndexInconsistentError(FacebankError):
    code = "index_inconsistent"


# --- accounts and access (issue 3) ---------------------------------------------------------


class AuthenticationError(FacebankError):
    """No credentials, or credentials that do not identify an active user or key."""

    code = "unauthorized"


class PermissionDeniedError(FacebankError):
    """Known caller, but their role does not allow this."""

    code = "forbidden"


class CsrfFailedError(FacebankError):
    """A cookie-authenticated unsafe request without the session's CSRF token."""

    code = "csrf_failed"


class RateLimitedError(FacebankError):
    """Too many attempts; `retry_after_s` in the details says when to try again."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int, **details: Any) -> None:
        super().__init__(message, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s


class ArchiveInvalidError(FacebankError):
    """An export archive that is truncated, corrupt (checksum mismatch) or of another format."""

    code = "archive_invalid"


class CalibrationUnavailableError(ConflictError):
    """The gallery is too small (or empty) to measure a threshold from it."""

    code = "calibration_unavailable"


class GalleryNotEmptyError(ConflictError):
    """A restore of an export archive into a gallery that already has people (a restore
    keeps the archive's ids, so it only goes into an empty gallery)."""

    code = "gallery_not_empty"


# --- several machines (issue 13) -----------------------------------------------------------


class ServiceUnavailableError(FacebankError):
    """A backing service is away for now; `retry_after_s` says when to try again (503)."""

    code = "service_unavailable"

    def __init__(self, message: str, retry_after_s: int, **details: Any) -> None:
        super().__init__(message, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s


class VectorEngineUnavailableError(ServiceUnavailableError):
    """The vector engine (FACEBANK_INDEX_BACKEND=pgvector) cannot be reached."""

    code = "vector_engine_unavailable"


class DatabaseUnavailableError(ServiceUnavailableError):
    """The SQL database cannot be reached (refused, dropped, no pooled connection)."""

    code = "database_unavailable"

"""Small checks shared by the record types and the media store."""

from __future__ import annotations

import re

from pydantic import ValidationError

from facebank.errors import ValidationFailedError

_MEDIA_REF = re.compile(r"[0-9a-f]{64}")


# Ids are signed 64-bit on every backend; anything outside cannot exist, and passing it on
# would make the driver fail (a server error instead of "not found").
MAX_ID = 2**63 - 1


def is_storable_id(value: int) -> bool:
    return 0 < value <= MAX_ID


def check_length(name: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValidationFailedError(f"{name} is longer than {limit} characters", field=name)


def check_text_key(name: str, value: str, limit: int) -> None:
    """A non-empty identifier-like string (ids, model names, file types)."""
    if not isinstance(value, str) or not value:
        raise ValidationFailedError(f"{name} must be a non-empty string", field=name)
    check_length(name, value, limit)


def is_media_ref(value: object) -> bool:
    return isinstance(value, str) and _MEDIA_REF.fullmatch(value) is not None


def check_media_ref(value: object) -> str:
    """A media ref is a lowercase sha256 hex digest; anything else could escape the media dir."""
    if not is_media_ref(value):
        raise ValidationFailedError(
            "media ref must be 64 lowercase hex characters", field="media_ref"
        )
    assert isinstance(value, str)
    return value


def not_blank(value: str) -> str:
    """A pydantic validator: text that is all white space is no value."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def refusal(message: str, exc: ValidationError) -> ValidationFailedError:
    """A pydantic failure as the store's (and the API's) one error type, problems by field."""
    problems = [
        {"field": ".".join(str(part) for part in error["loc"]), "message": error["msg"]}
        for error in exc.errors()
    ]
    return ValidationFailedError(message, problems=problems)

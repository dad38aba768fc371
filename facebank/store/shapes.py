"""What the aggregate modules' value types share: validated inputs, answer-shaped records,
and row -> record copies."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from facebank.errors import ValidationFailedError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance | BaseModel")


class CheckedInput(BaseModel):
    """A frozen value the store validates on construction. Its field types carry the limits
    (the same `Annotated` types the API's models use), and a bad value is the store's
    ValidationFailedError, never pydantic's own error (which would be a server error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(part) for part in first["loc"]) or type(self).__name__
            raise ValidationFailedError(f"{field}: {first['msg']}", field=field) from None


class AnswerRecord(BaseModel):
    """A record whose fields are, one for one, what the API answers: the API's model
    subclasses it (so the fields are declared here only) and reads it by attribute."""

    model_config = ConfigDict(frozen=True, from_attributes=True)


def _names(cls: type[R]) -> tuple[str, ...]:
    if issubclass(cls, BaseModel):
        return tuple(cls.model_fields)
    return tuple(f.name for f in fields(cls))


def record_from(cls: type[R], row: object, **values: Any) -> R:
    """A `cls` record from the row's attributes of the same names; `values` fill (or
    replace) the fields the row lacks or stores differently."""
    copied = {name: getattr(row, name) for name in _names(cls) if name not in values}
    return cls(**copied, **values)

"""What the aggregate modules' value types share: validated inputs, answer-shaped records,
and row -> record copies."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    model_validator,
)

from facebank.store.validation import refusal

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance | BaseModel")


class CheckedInput(BaseModel):
    """A frozen value the store validates, however it is built (constructed, or validated
    from JSON as the API's request body). Its field types carry the limits (the same
    `Annotated` types the API's models use), and a bad value is the store's
    ValidationFailedError with the problems by field, never pydantic's own error (which
    would be a server error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # What the refusal calls the value: "the person is not valid".
    subject: ClassVar[str] = "the value"

    @model_validator(mode="wrap")
    @classmethod
    def _refuse_as_validation_failed(
        cls, data: Any, handler: ModelWrapValidatorHandler[Self]
    ) -> Self:
        try:
            return handler(data)
        except ValidationError as exc:
            raise refusal(f"{cls.subject} is not valid", exc) from None


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

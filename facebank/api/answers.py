"""What the answer models share: reading records by attribute, and pages (the query
parameters, the page model, filling it from a store page)."""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from facebank.store.paging import Page

PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


class FromRecord(BaseModel):
    """An answer read from a record's attributes of the same names; the record's other
    attributes are left out (a user's password hash is in the record, never in an answer)."""

    model_config = ConfigDict(from_attributes=True)


class PageOut(BaseModel):
    # Each page model names its item model: `items: list[ItemOut]` (the field keeps its
    # place, first). No docstring: it would become every page's description.
    items: list[Any]
    total: int
    page: int
    page_size: int
    pages: int


P = TypeVar("P", bound=PageOut)


def offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def page_out(model: type[P], result: Page[Any], page: int, page_size: int) -> P:
    """A `model` page from a store page; its item model reads the records' attributes."""
    return model.model_validate(
        {
            "items": result.items,
            "total": result.total,
            "page": page,
            "page_size": page_size,
            "pages": math.ceil(result.total / page_size),
        }
    )

"""Paged answers: the page query parameters, and a page model filled from a store page."""

from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel

from facebank.store.paging import Page

P = TypeVar("P", bound=BaseModel)

PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]


def offset(page: int, page_size: int) -> int:
    return (page - 1) * page_size


def page_out(model: type[P], result: Page[Any], page: int, page_size: int) -> P:
    """`model` (items, total, page, page_size, pages) from a store page; its item model
    reads the records' attributes."""
    return model.model_validate(
        {
            "items": result.items,
            "total": result.total,
            "page": page,
            "page_size": page_size,
            "pages": math.ceil(result.total / page_size),
        }
    )

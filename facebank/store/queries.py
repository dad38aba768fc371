"""Queries the aggregate repositories share: one page of rows, counts per value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from facebank.store.paging import Page

Row = TypeVar("Row")
T = TypeVar("T")


def fetch_page(
    session: Session,
    query: Select[Row],
    offset: int,
    limit: int,
    to_record: Callable[[Row], T],
) -> Page[T]:
    """One page of the rows `query` selects (filtered and ordered), with how many it
    matches in all."""
    matching = query.order_by(None).subquery()
    total = session.scalar(select(func.count()).select_from(matching)) or 0
    rows = session.scalars(query.offset(offset).limit(limit))
    return Page([to_record(row) for row in rows], int(total), offset, limit)


def count_by(
    session: Session, column: InstrumentedAttribute[Any], *conditions: ColumnElement[bool]
) -> dict[Any, int]:
    """How many rows (matching `conditions`) hold each value of `column`."""
    query = select(column, func.count()).where(*conditions).group_by(column)
    return {value: int(n) for value, n in session.execute(query).all()}

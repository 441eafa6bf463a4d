"""Keyset pagination over (created_at, id), newest first: a page starts after the previous page's last
row, so rows added meanwhile never shift a page, and no OFFSET grows with the page number."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, or_

from shared.models import Dataset, Job, Training

T = TypeVar("T", bound=tuple[Any, ...])
Paged = type[Job] | type[Dataset] | type[Training]


def newest_first(query: Select[T], table: Paged, after: tuple[datetime, uuid.UUID] | None) -> Select[T]:
    """``query`` ordered newest first and, with ``after`` (the previous page's last created_at and id),
    from the row after it."""
    query = query.order_by(table.created_at.desc(), table.id.desc())
    if after is None:
        return query
    created_at, row_id = after
    return query.where(
        or_(table.created_at < created_at, (table.created_at == created_at) & (table.id < row_id))
    )

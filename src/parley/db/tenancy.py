"""The one place where a firm's rows are told apart from every other firm's.

Every lookup of a firm-owned row by id goes through `get_for_firm`, so a row of another
firm is "not found" by construction, never by a check someone must remember.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.domain.errors import NotFound

RowT = TypeVar("RowT")


def select_for_firm(model: type[RowT], firm_id: uuid.UUID) -> Select[RowT]:
    owned: Any = model
    return select(model).where(owned.firm_id == firm_id)


async def get_for_firm(
    session: AsyncSession,
    model: type[RowT],
    row_id: uuid.UUID,
    firm_id: uuid.UUID,
    *,
    label: str,
    for_update: bool = False,
) -> RowT:
    owned: Any = model
    query = select_for_firm(model, firm_id).where(owned.id == row_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No {label} with id {row_id}.")
    return row

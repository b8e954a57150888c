"""Queries about opted-out numbers."""

from __future__ import annotations

import uuid

from sqlalchemy import Exists, SQLColumnExpression, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import SmsOptOut
from parley.db.statements import Statements


async def opted_out_numbers(
    session: AsyncSession, firm_id: uuid.UUID, numbers: list[str]
) -> set[str]:
    if not numbers:
        return set()
    rows = await session.scalars(
        select(SmsOptOut.phone_number).where(
            SmsOptOut.firm_id == firm_id, SmsOptOut.phone_number.in_(numbers)
        )
    )
    return set(rows)


def opted_out(firm_id: SQLColumnExpression[uuid.UUID], number: SQLColumnExpression[str]) -> Exists:
    """Whether the number told the firm STOP (and not START since)."""
    return exists().where(SmsOptOut.firm_id == firm_id, SmsOptOut.phone_number == number)


# Built once: asked for every keyword received.
_IS_OPTED_OUT = select(opted_out(bindparam("firm_id"), bindparam("number")))


async def is_opted_out(statements: Statements, firm_id: uuid.UUID, number: str) -> bool:
    row = await statements.row(_IS_OPTED_OUT, {"firm_id": firm_id, "number": number})
    return bool(row and row[0])

"""Queries about opted-out numbers."""

from __future__ import annotations

import uuid

from sqlalchemy import Exists, SQLColumnExpression, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from parley.db.models import SmsOptOut


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


# Built once: asked for every keyword received. One row: whether it opted out.
IS_OPTED_OUT = select(opted_out(bindparam("firm_id"), bindparam("number")))


async def is_opted_out(db: AsyncSession | AsyncConnection, firm_id: uuid.UUID, number: str) -> bool:
    return bool(await db.scalar(IS_OPTED_OUT, {"firm_id": firm_id, "number": number}))

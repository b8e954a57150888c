"""Queries about opted-out numbers."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, exists, select
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


# Built once: asked for every text received.
_IS_OPTED_OUT = select(
    exists().where(
        SmsOptOut.firm_id == bindparam("firm_id"), SmsOptOut.phone_number == bindparam("number")
    )
)


async def is_opted_out(
    session: AsyncSession | AsyncConnection, firm_id: uuid.UUID, number: str
) -> bool:
    return bool(await session.scalar(_IS_OPTED_OUT, {"firm_id": firm_id, "number": number}))

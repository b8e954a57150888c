"""Queries about reply links."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import ReplyLink


async def newest_link_at(
    session: AsyncSession, conversation_id: uuid.UUID, contact_id: uuid.UUID
) -> datetime | None:
    return await session.scalar(
        select(func.max(ReplyLink.created_at)).where(
            ReplyLink.conversation_id == conversation_id, ReplyLink.contact_id == contact_id
        )
    )


async def opened_since(
    session: AsyncSession, conversation_id: uuid.UUID, contact_id: uuid.UUID, since: datetime
) -> bool:
    """Whether the contact opened any link of the conversation at or after `since`."""
    found = await session.scalar(
        select(ReplyLink.id)
        .where(
            ReplyLink.conversation_id == conversation_id,
            ReplyLink.contact_id == contact_id,
            ReplyLink.opened_at >= since,
        )
        .limit(1)
    )
    return found is not None

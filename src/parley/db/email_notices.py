"""Queries about the email outbox."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import EmailNotice

WAITING = "waiting"


async def waiting_notice(
    session: AsyncSession, conversation_id: uuid.UUID, contact_id: uuid.UUID
) -> EmailNotice | None:
    """The notice still waiting to go to this contact about this conversation, if any."""
    return await session.scalar(
        select(EmailNotice)
        .where(
            EmailNotice.conversation_id == conversation_id,
            EmailNotice.contact_id == contact_id,
            EmailNotice.status == WAITING,
            # One being worked on may already be composed: a new message gets its own.
            EmailNotice.claimed_by.is_(None),
        )
        .with_for_update()
    )


async def claim_due_notices(
    session: AsyncSession, *, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[EmailNotice]:
    due = (
        select(EmailNotice.id)
        .where(
            EmailNotice.next_attempt_at <= now,
            or_(EmailNotice.claimed_until.is_(None), EmailNotice.claimed_until < now),
        )
        .order_by(EmailNotice.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.scalars(
        update(EmailNotice)
        .where(EmailNotice.id.in_(due.scalar_subquery()))
        .values(claimed_by=worker, claimed_until=lease_until, attempts=EmailNotice.attempts + 1)
        .returning(EmailNotice)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)

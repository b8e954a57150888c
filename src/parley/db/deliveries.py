"""Queries about SMS deliveries: the queue the dispatcher works from, and their views."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import (
    AWAITING_NEWS,
    DeliveryEvent,
    FirmSmsNumber,
    ReplyLink,
    SmsDelivery,
)

WAKE_CHANNEL = "parley_dispatch"


async def deliveries_by_message(
    session: AsyncSession, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[SmsDelivery, datetime | None]]]:
    """Each message's deliveries, oldest first, with the time their link was opened."""
    rows = await session.execute(
        select(SmsDelivery, ReplyLink.opened_at)
        .outerjoin(ReplyLink, ReplyLink.delivery_id == SmsDelivery.id)
        .where(SmsDelivery.message_id.in_(message_ids))
        .order_by(SmsDelivery.created_at, SmsDelivery.id)
    )
    found: dict[uuid.UUID, list[tuple[SmsDelivery, datetime | None]]] = defaultdict(list)
    for delivery, opened_at in rows:
        found[delivery.message_id].append((delivery, opened_at))
    return found


async def sender_number(session: AsyncSession, firm_id: uuid.UUID) -> FirmSmsNumber:
    """The number a firm texts from: its first one."""
    number = await session.scalar(
        select(FirmSmsNumber)
        .where(FirmSmsNumber.firm_id == firm_id)
        .order_by(FirmSmsNumber.id)
        .limit(1)
    )
    assert number is not None, "every firm has at least one SMS number"
    return number


async def wake_dispatchers(session: AsyncSession) -> None:
    """Tell dispatchers in other processes that work is waiting (sent on commit)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"NOTIFY {WAKE_CHANNEL}"))


async def claim_due(
    session: AsyncSession, *, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[SmsDelivery]:
    """Take up to `limit` due deliveries for this worker, atomically.

    PostgreSQL skips rows another worker is claiming at the same moment (SKIP LOCKED);
    SQLite has one writer at a time, so the single UPDATE is atomic there already.
    """
    due = (
        select(SmsDelivery.id)
        .where(
            SmsDelivery.next_attempt_at <= now,
            or_(SmsDelivery.claimed_until.is_(None), SmsDelivery.claimed_until < now),
        )
        .order_by(SmsDelivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.scalars(
        update(SmsDelivery)
        .where(SmsDelivery.id.in_(due.scalar_subquery()))
        .values(
            claimed_by=worker,
            claimed_until=lease_until,
            attempts=SmsDelivery.attempts + 1,
            first_attempt_at=func.coalesce(SmsDelivery.first_attempt_at, now),
        )
        .returning(SmsDelivery)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)


async def extend_claims(
    session: AsyncSession, *, worker: str, ids: list[uuid.UUID], lease_until: datetime
) -> None:
    await session.execute(
        update(SmsDelivery)
        .where(and_(SmsDelivery.id.in_(ids), SmsDelivery.claimed_by == worker))
        .values(claimed_until=lease_until)
    )


async def awaiting_news(
    session: AsyncSession,
    *,
    quiet_since: datetime,
    created_since: datetime,
    exclude: Collection[uuid.UUID],
    limit: int,
) -> list[tuple[uuid.UUID, str]]:
    """Texts created since `created_since` with no news since `quiet_since`, quietest first.

    News is a change of status or any event about the text: a callback, or the answer
    to an earlier reconciliation, so a text is asked about once per quiet spell.
    Gives each text's delivery id and provider id.
    """
    recent_event = (
        select(DeliveryEvent.id)
        .where(
            DeliveryEvent.delivery_id == SmsDelivery.id,
            DeliveryEvent.received_at >= quiet_since,
        )
        .exists()
    )
    rows = await session.execute(
        select(SmsDelivery.id, SmsDelivery.provider_id)
        .where(
            text(AWAITING_NEWS),
            SmsDelivery.provider_id.is_not(None),
            SmsDelivery.updated_at < quiet_since,
            SmsDelivery.created_at >= created_since,
            SmsDelivery.id.not_in(exclude),
            ~recent_event,
        )
        .order_by(SmsDelivery.updated_at, SmsDelivery.id)
        .limit(limit)
    )
    return [(delivery_id, str(provider_id)) for delivery_id, provider_id in rows]

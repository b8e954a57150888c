"""Queries about SMS deliveries: the queue the dispatcher works from, and their views."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    String,
    Uuid,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import (
    AWAITING_NEWS,
    DeliveryEvent,
    FirmSmsNumber,
    ReplyLink,
    SmsDelivery,
)
from parley.db.opt_outs import opted_out
from parley.db.statements import Statements

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


class ClaimedText(NamedTuple):
    """A queued text this worker now holds, with all that sending it needs."""

    id: uuid.UUID
    to_number: str
    from_number: str
    body: str
    segments: int
    attempts: int  # this one included
    first_attempt_at: datetime
    link_id: uuid.UUID | None
    opted_out: bool  # asked as it is claimed: a STOP that came while it was queued holds it


async def claim_due(
    statements: Statements, *, worker: str, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedText]:
    """Take up to `limit` due deliveries for this worker, atomically, in one statement.

    PostgreSQL skips rows another worker is claiming at the same moment (SKIP LOCKED);
    SQLite has one writer at a time, so the single UPDATE is atomic there already.
    """
    params = {"worker": worker, "now": now, "lease_until": lease_until, "limit": limit}
    return [ClaimedText._make(row) for row in await statements.rows(_CLAIM_DUE, params)]


_DUE = (
    select(SmsDelivery.id)
    .where(
        SmsDelivery.next_attempt_at <= bindparam("now"),
        or_(SmsDelivery.claimed_until.is_(None), SmsDelivery.claimed_until < bindparam("now")),
    )
    .order_by(SmsDelivery.next_attempt_at)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
# Built once: run for every batch a dispatcher claims. Each text's link and whether its
# client opted out come back with it, from subqueries of the RETURNING clause, so
# that claiming is one round trip on either database. The claimed row is named as SQL
# in them: SQLAlchemy writes SQLite's RETURNING clause unqualified, where `id` in a
# subquery of reply_links would be the link's own.
_CLAIMED_ID = literal_column("sms_deliveries.id", Uuid)
_CLAIMED_FIRM = literal_column("sms_deliveries.firm_id", Uuid)
_CLAIMED_TO = literal_column("sms_deliveries.to_number", String)
_CLAIM_DUE = (
    update(SmsDelivery)
    .where(SmsDelivery.id.in_(_DUE.scalar_subquery()))
    .values(
        claimed_by=bindparam("worker"),
        claimed_until=bindparam("lease_until"),
        attempts=SmsDelivery.attempts + 1,
        first_attempt_at=func.coalesce(SmsDelivery.first_attempt_at, bindparam("now")),
    )
    .returning(
        SmsDelivery.id,
        SmsDelivery.to_number,
        SmsDelivery.from_number,
        SmsDelivery.body,
        SmsDelivery.segments,
        SmsDelivery.attempts,
        SmsDelivery.first_attempt_at,
        select(ReplyLink.id).where(ReplyLink.delivery_id == _CLAIMED_ID).scalar_subquery(),
        opted_out(_CLAIMED_FIRM, _CLAIMED_TO),
    )
)


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

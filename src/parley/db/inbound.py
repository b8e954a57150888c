"""Queries about received texts and the facts that decide where they go."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import Contact, FirmSmsNumber, InboundText, SmsDelivery
from parley.domain.delivery_status import DeliveryStatus
from parley.domain.reply_routing import TextToNumber


async def firm_of_number(session: AsyncSession, number: str) -> uuid.UUID | None:
    return await session.scalar(select(FirmSmsNumber.firm_id).where(FirmSmsNumber.number == number))


async def contacts_with_number(
    session: AsyncSession, firm_id: uuid.UUID, number: str
) -> list[Contact]:
    rows = await session.scalars(
        select(Contact)
        .where(Contact.firm_id == firm_id, Contact.mobile_phone == number)
        .order_by(Contact.id)
    )
    return list(rows)


async def texts_to_number_since(
    session: AsyncSession, firm_id: uuid.UUID, number: str, since: datetime
) -> list[TextToNumber]:
    """Texts of the firm to this number since `since` that were not refused outright."""
    rows = await session.execute(
        select(
            SmsDelivery.conversation_id,
            SmsDelivery.contact_id,
            SmsDelivery.message_id,
            SmsDelivery.created_at,
        ).where(
            SmsDelivery.firm_id == firm_id,
            SmsDelivery.to_number == number,
            SmsDelivery.created_at >= since,
            SmsDelivery.status != DeliveryStatus.FAILED,
        )
    )
    return [
        TextToNumber(
            conversation_id=conversation_id,
            contact_id=contact_id,
            message_id=message_id,
            texted_at=texted_at,
        )
        for conversation_id, contact_id, message_id, texted_at in rows
    ]


async def last_notice_at(session: AsyncSession, firm_id: uuid.UUID, number: str) -> datetime | None:
    return await session.scalar(
        select(func.max(InboundText.notice_sent_at)).where(
            InboundText.firm_id == firm_id, InboundText.from_number == number
        )
    )

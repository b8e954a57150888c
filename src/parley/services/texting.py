"""Send as SMS and Resend as SMS: one queued delivery per participant with a mobile.

The deliveries are written in the caller's transaction, beside the message, so a
message is never saved without its texts or the other way round (DESIGN §4: the
database is the queue).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.conversations import current_participants
from parley.db.deliveries import sender_number, wake_dispatchers
from parley.db.models import Contact, Firm, Message, SmsDelivery
from parley.db.opt_outs import is_opted_out, opted_out_numbers
from parley.db.statements import CoreStatements
from parley.domain.delivery_status import DeliveryStatus
from parley.domain.sms_text import compose_intro, segments_of
from parley.services.reply_links import mint_reply_link
from parley.services.views import NotTextedView
from parley.settings import Settings

NO_MOBILE = "No mobile number"
OPTED_OUT = "Opted out: the recipient texted STOP to the firm"
FRESH_LINK_TEXT = "Here is a new link to read and answer our messages."


@dataclass(frozen=True)
class QueuedTexts:
    # Deliveries written, including those failed at once because the number opted out.
    deliveries: int
    not_texted: list[NotTextedView]


async def queue_texts(
    session: AsyncSession, settings: Settings, message: Message, now: datetime
) -> QueuedTexts:
    """Queue a text of `message` to every participant; says who is not texted and why."""
    firm = await session.get_one(Firm, message.firm_id)
    participants = (await current_participants(session, [message.conversation_id])).get(
        message.conversation_id, []
    )
    opted_out = await opted_out_numbers(
        session, firm.id, [c.mobile_phone for c in participants if c.mobile_phone]
    )
    not_texted: list[NotTextedView] = []
    deliveries = 0
    for contact in participants:
        if not contact.mobile_phone:
            not_texted.append(
                NotTextedView(contact_id=contact.id, name=contact.name, reason=NO_MOBILE)
            )
            continue
        await _queue_one(
            session,
            settings,
            firm,
            message,
            contact,
            message.body,
            now,
            opted_out=contact.mobile_phone in opted_out,
        )
        deliveries += 1
    await wake_dispatchers(session)
    return QueuedTexts(deliveries=deliveries, not_texted=not_texted)


class ExpiredLink(Protocol):
    """What a fresh link needs to know of the expired one it replaces."""

    @property
    def firm_id(self) -> uuid.UUID: ...
    @property
    def contact_id(self) -> uuid.UUID: ...
    @property
    def message_id(self) -> uuid.UUID: ...


async def queue_fresh_link(
    session: AsyncSession, settings: Settings, expired: ExpiredLink, now: datetime
) -> bool:
    """Text a new reply link in place of an expired one; False when the number can't be."""
    contact = await session.get_one(Contact, expired.contact_id)
    if not contact.mobile_phone or await is_opted_out(
        CoreStatements(await session.connection()), expired.firm_id, contact.mobile_phone
    ):
        return False
    firm = await session.get_one(Firm, expired.firm_id)
    message = await session.get_one(Message, expired.message_id)
    await _queue_one(session, settings, firm, message, contact, FRESH_LINK_TEXT, now)
    await wake_dispatchers(session)
    return True


async def _queue_one(
    session: AsyncSession,
    settings: Settings,
    firm: Firm,
    message: Message,
    contact: Contact,
    words: str,
    now: datetime,
    *,
    opted_out: bool = False,
) -> SmsDelivery:
    assert contact.mobile_phone is not None
    sender = await sender_number(session, firm.id)
    delivery = SmsDelivery(
        firm_id=firm.id,
        message_id=message.id,
        conversation_id=message.conversation_id,
        contact_id=contact.id,
        to_number=contact.mobile_phone,
        from_number=sender.number,
        body="",
        segments=0,
        status=DeliveryStatus.SENDING,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(delivery)
    await session.flush()
    _, link = mint_reply_link(
        session,
        settings,
        firm_id=firm.id,
        conversation_id=message.conversation_id,
        contact_id=contact.id,
        message_id=message.id,
        delivery_id=delivery.id,
        now=now,
    )
    delivery.body = compose_intro(firm.name, words, link, firm.sms_segment_limit)
    delivery.segments = segments_of(delivery.body, link)
    if opted_out:
        # Rule 7: fails at once; the provider is never called.
        delivery.status = DeliveryStatus.FAILED
        delivery.error_code = "opted_out"
        delivery.error_message = OPTED_OUT
    else:
        delivery.next_attempt_at = now
    return delivery

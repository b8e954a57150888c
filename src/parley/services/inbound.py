"""Texts from clients: stored as received first, then a keyword, filed, or held.

No client's words are ever dropped: the raw text is committed before any rule runs, a
Twilio retry of the same MessageSid gets the same answer without being handled twice,
and whatever cannot be filed waits in the firm's inbox with the reason.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.conversations import add_to_conversation
from parley.db.inbound import (
    contacts_with_number,
    firm_of_number,
    last_notice_at,
    texts_to_number_since,
)
from parley.db.models import (
    ConsentEvent,
    Firm,
    InboundText,
    Message,
    SmsOptOut,
)
from parley.db.opt_outs import is_opted_out
from parley.domain.keywords import Keyword, classify_keyword
from parley.domain.messages import Channel
from parley.domain.phone_numbers import normalize_sender_number
from parley.domain.reply_routing import (
    FileInConversation,
    HoldInInbox,
    InboundFacts,
    decide_reply_route,
)
from parley.domain.sms_replies import held_reply_notice, keyword_answer
from parley.services.context import ServiceContext

log = logging.getLogger(__name__)


class Outcome:
    FILED = "filed"
    HELD = "held"
    KEYWORD = "keyword"
    UNROUTABLE = "unroutable"


@dataclass(frozen=True)
class ReceivedText:
    provider_id: str
    from_number: str
    to_number: str
    body: str
    params: dict[str, str]
    media: list[dict[str, str]] = field(default_factory=list)


async def receive_text(ctx: ServiceContext, received: ReceivedText) -> str | None:
    """Store and handle one inbound text; returns the text to answer with, if any."""
    await _store_as_received(ctx, received)
    async with ctx.db.transaction() as session:
        row = await session.scalar(
            select(InboundText)
            .where(InboundText.provider_id == received.provider_id)
            .with_for_update()
        )
        assert row is not None
        if row.handled_at is None:
            now = ctx.clock()
            row.reply_body = await _handle(session, ctx, row, now)
            row.handled_at = now
        return row.reply_body


async def _store_as_received(ctx: ServiceContext, received: ReceivedText) -> None:
    region = ctx.settings.default_phone_region
    to_number = normalize_sender_number(received.to_number, region)
    try:
        async with ctx.db.transaction() as session:
            exists = await session.scalar(
                select(InboundText.id).where(InboundText.provider_id == received.provider_id)
            )
            if exists is not None:
                return
            session.add(
                InboundText(
                    provider_id=received.provider_id,
                    firm_id=await firm_of_number(session, to_number),
                    from_number=normalize_sender_number(received.from_number, region),
                    to_number=to_number,
                    body=received.body,
                    media=received.media,
                    params=received.params,
                    received_at=ctx.clock(),
                )
            )
    except IntegrityError:
        pass  # the same text, stored a moment ago by a concurrent retry


async def _handle(
    session: AsyncSession, ctx: ServiceContext, text: InboundText, now: datetime
) -> str | None:
    if text.firm_id is None:
        log.warning("text %s to %s: no firm has that number", text.provider_id, text.to_number)
        text.outcome = Outcome.UNROUTABLE
        return None
    firm = await session.get_one(Firm, text.firm_id)
    keyword = classify_keyword(text.body)
    if keyword is not None:
        return await _obey_keyword(session, ctx, firm, text, keyword, now)
    return await _route_reply(session, ctx, firm, text, now)


async def _obey_keyword(
    session: AsyncSession,
    ctx: ServiceContext,
    firm: Firm,
    text: InboundText,
    keyword: Keyword,
    now: datetime,
) -> str | None:
    text.outcome = Outcome.KEYWORD
    text.keyword = keyword
    number = text.from_number
    if keyword is Keyword.STOP:
        if not await is_opted_out(session, firm.id, number):
            session.add(SmsOptOut(firm_id=firm.id, phone_number=number, opted_out_at=now))
        _record_consent(session, firm, text, "opt_out", now)
    elif keyword is Keyword.START:
        await session.execute(
            delete(SmsOptOut).where(SmsOptOut.firm_id == firm.id, SmsOptOut.phone_number == number)
        )
        _record_consent(session, firm, text, "opt_in", now)
    if ctx.settings.provider_answers_keywords:
        return None
    return keyword_answer(keyword, firm.name, firm.email_from)


def _record_consent(
    session: AsyncSession, firm: Firm, text: InboundText, action: str, now: datetime
) -> None:
    session.add(
        ConsentEvent(
            firm_id=firm.id,
            phone_number=text.from_number,
            action=action,
            text=text.body,
            inbound_text_id=text.id,
            at=now,
        )
    )


async def routing_facts(
    session: AsyncSession, ctx: ServiceContext, firm_id: uuid.UUID, number: str, now: datetime
) -> InboundFacts:
    """What the one-conversation rule needs to know about a text from `number`."""
    window = timedelta(days=ctx.settings.sms_reply_window_days)
    return InboundFacts(
        received_at=now,
        sender_contact_ids=frozenset(
            c.id for c in await contacts_with_number(session, firm_id, number)
        ),
        texts_to_number=tuple(await texts_to_number_since(session, firm_id, number, now - window)),
        window=window,
        sender_opted_out=await is_opted_out(session, firm_id, number),
        last_notice_at=await last_notice_at(session, firm_id, number),
    )


async def _route_reply(
    session: AsyncSession, ctx: ServiceContext, firm: Firm, text: InboundText, now: datetime
) -> str | None:
    facts = await routing_facts(session, ctx, firm.id, text.from_number, now)
    decision = decide_reply_route(facts)
    if isinstance(decision, FileInConversation):
        message = await file_text(
            session,
            text,
            decision.conversation_id,
            decision.contact_id,
            decision.in_reply_to_id,
            now,
        )
        text.outcome = Outcome.FILED
        text.contact_id = decision.contact_id
        text.message_id = message.id
        return None
    assert isinstance(decision, HoldInInbox)
    text.outcome = Outcome.HELD
    text.hold_reason = decision.reason
    text.contact_id = decision.contact_id
    if not decision.send_notice:
        return None
    text.notice_sent_at = now
    return held_reply_notice(firm.name, decision.reason)


async def file_text(
    session: AsyncSession,
    text: InboundText,
    conversation_id: uuid.UUID,
    contact_id: uuid.UUID,
    in_reply_to_id: uuid.UUID | None,
    now: datetime,
) -> Message:
    """The text becomes a message from the contact, and the conversation rises in lists."""
    assert text.firm_id is not None
    message = Message(
        firm_id=text.firm_id,
        conversation_id=conversation_id,
        author_contact_id=contact_id,
        body=text.body,
        channel=Channel.SMS,
        in_reply_to_id=in_reply_to_id,
        media=text.media or None,
        created_at=now,
    )
    await add_to_conversation(session, message)
    await session.flush()
    return message

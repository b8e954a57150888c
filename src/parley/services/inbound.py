"""Texts from clients: stored as received first, then a keyword, filed, or held.

No client's words are ever dropped: the raw text is committed before any rule runs, a
Twilio retry of the same MessageSid gets the same answer without being handled twice,
and whatever cannot be filed waits in the firm's inbox with the reason.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import BindParameter, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from parley.db.conversations import ClientMessage, add_client_message
from parley.db.inbound import sender_facts
from parley.db.models import (
    ConsentEvent,
    Firm,
    FirmSmsNumber,
    InboundText,
    SmsOptOut,
)
from parley.db.opt_outs import is_opted_out
from parley.db.statements import Statements
from parley.db.types import new_id
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
    async with ctx.db.statements_in_transaction() as statements:
        found = await statements.row(_TEXT_TO_HANDLE, {"provider_id": received.provider_id})
        assert found is not None  # stored just above, and texts are never deleted
        text = _StoredText._make(found)
        if text.handled_at is not None:
            return text.reply_body  # a retry of a text handled already: the same answer
        now = ctx.clock()
        handling = await _handle(statements, ctx, text, now)
        await statements.run(
            _RECORD_HANDLING, {"text_id": text.id, "handled_at": now, **asdict(handling)}
        )
        return handling.reply_body


class _StoredText(NamedTuple):
    id: uuid.UUID
    firm_id: uuid.UUID | None
    from_number: str
    to_number: str
    provider_id: str
    body: str
    media: list[dict[str, str]]
    handled_at: datetime | None
    reply_body: str | None
    firm_name: str | None
    firm_email_from: str | None


@dataclass(frozen=True)
class _Handling:
    """What handling decided, as the columns of the text that record it."""

    outcome: str
    reply_body: str | None = None
    keyword: str | None = None
    contact_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None
    hold_reason: str | None = None
    notice_sent_at: datetime | None = None


async def _store_as_received(ctx: ServiceContext, received: ReceivedText) -> None:
    region = ctx.settings.default_phone_region
    store = _STORE_AS_RECEIVED[ctx.db.is_sqlite]
    async with ctx.db.statements() as statements:
        # Nothing happens for a text stored already (a Twilio retry, maybe concurrent).
        await statements.run(
            store,
            {
                "id": new_id(),
                "provider_id": received.provider_id,
                "from_number": normalize_sender_number(received.from_number, region),
                "to_number": normalize_sender_number(received.to_number, region),
                "body": received.body,
                "media": received.media,
                "params": received.params,
                "received_at": ctx.clock(),
            },
        )


async def _handle(
    statements: Statements, ctx: ServiceContext, text: _StoredText, now: datetime
) -> _Handling:
    if text.firm_id is None:
        log.warning("text %s to %s: no firm has that number", text.provider_id, text.to_number)
        return _Handling(Outcome.UNROUTABLE)
    keyword = classify_keyword(text.body)
    if keyword is not None:
        return await _obey_keyword(statements, ctx, text, keyword, now)
    return await _route_reply(statements, ctx, text, now)


async def _obey_keyword(
    statements: Statements,
    ctx: ServiceContext,
    text: _StoredText,
    keyword: Keyword,
    now: datetime,
) -> _Handling:
    assert text.firm_id is not None and text.firm_name is not None
    firm_id, number = text.firm_id, text.from_number
    number_of_firm = {"firm_id": firm_id, "number": number}
    if keyword is Keyword.STOP:
        if not await is_opted_out(statements, firm_id, number):
            await statements.run(_OPT_OUT, {**number_of_firm, "id": new_id(), "at": now})
        await _record_consent(statements, firm_id, text, "opt_out", now)
    elif keyword is Keyword.START:
        await statements.run(_OPT_IN, number_of_firm)
        await _record_consent(statements, firm_id, text, "opt_in", now)
    answer = None
    if not ctx.settings.provider_answers_keywords:
        answer = keyword_answer(keyword, text.firm_name, text.firm_email_from)
    return _Handling(Outcome.KEYWORD, reply_body=answer, keyword=keyword)


async def _record_consent(
    statements: Statements, firm_id: uuid.UUID, text: _StoredText, action: str, now: datetime
) -> None:
    await statements.run(
        _RECORD_CONSENT,
        {
            "id": new_id(),
            "firm_id": firm_id,
            "phone_number": text.from_number,
            "action": action,
            "text": text.body,
            "inbound_text_id": text.id,
            "at": now,
        },
    )


async def routing_facts(
    statements: Statements,
    ctx: ServiceContext,
    firm_id: uuid.UUID,
    number: str,
    now: datetime,
) -> InboundFacts:
    """What the one-conversation rule needs to know about a text from `number`."""
    window = timedelta(days=ctx.settings.sms_reply_window_days)
    facts = await sender_facts(statements, firm_id, number, now - window)
    return InboundFacts(
        received_at=now,
        sender_contact_ids=facts.contact_ids,
        texts_to_number=facts.texts_to_number,
        window=window,
        sender_opted_out=facts.opted_out,
        last_notice_at=facts.last_notice_at,
    )


async def _route_reply(
    statements: Statements, ctx: ServiceContext, text: _StoredText, now: datetime
) -> _Handling:
    assert text.firm_id is not None and text.firm_name is not None
    facts = await routing_facts(statements, ctx, text.firm_id, text.from_number, now)
    decision = decide_reply_route(facts)
    if isinstance(decision, FileInConversation):
        message_id = await file_text(
            statements,
            FiledWords(text.firm_id, text.body, text.media),
            decision.conversation_id,
            decision.contact_id,
            decision.in_reply_to_id,
            now,
        )
        return _Handling(Outcome.FILED, contact_id=decision.contact_id, message_id=message_id)
    assert isinstance(decision, HoldInInbox)
    held = _Handling(Outcome.HELD, hold_reason=decision.reason, contact_id=decision.contact_id)
    if not decision.send_notice:
        return held
    notice = held_reply_notice(text.firm_name, decision.reason)
    return replace(held, reply_body=notice, notice_sent_at=now)


class FiledWords(NamedTuple):
    """What of a received text becomes the message."""

    firm_id: uuid.UUID
    body: str
    media: list[dict[str, str]]


async def file_text(
    statements: Statements,
    text: FiledWords,
    conversation_id: uuid.UUID,
    contact_id: uuid.UUID,
    in_reply_to_id: uuid.UUID | None,
    now: datetime,
) -> uuid.UUID:
    """The text becomes a message from the contact (its id returned); the conversation
    rises in lists."""
    message = ClientMessage(
        firm_id=text.firm_id,
        conversation_id=conversation_id,
        contact_id=contact_id,
        body=text.body,
        channel=Channel.SMS,
        in_reply_to_id=in_reply_to_id,
        media=text.media or None,
        created_at=now,
    )
    await add_client_message(statements, message)
    return message.id


# Built once: every text runs them.
_INBOUND_TEXTS = cast(Table, InboundText.__table__)
_FIRM_OF_NUMBER = (
    select(FirmSmsNumber.firm_id)
    .where(FirmSmsNumber.number == bindparam("to_number"))
    .scalar_subquery()
)
_STORED_COLUMNS: dict[str, BindParameter[Any]] = {
    column: bindparam(column)
    for column in (
        "id",
        "provider_id",
        "from_number",
        "to_number",
        "body",
        "media",
        "params",
        "received_at",
    )
}
# By whether the database is SQLite: each dialect spells ON CONFLICT with its own insert().
_STORE_AS_RECEIVED = {
    is_sqlite: dialect_insert(_INBOUND_TEXTS)
    .values(firm_id=_FIRM_OF_NUMBER, **_STORED_COLUMNS)
    .on_conflict_do_nothing(index_elements=["provider_id"])
    for is_sqlite, dialect_insert in ((False, postgresql_insert), (True, sqlite_insert))
}
_TEXT_TO_HANDLE = (
    select(
        InboundText.id,
        InboundText.firm_id,
        InboundText.from_number,
        InboundText.to_number,
        InboundText.provider_id,
        InboundText.body,
        InboundText.media,
        InboundText.handled_at,
        InboundText.reply_body,
        Firm.name,
        Firm.email_from,
    )
    .outerjoin(Firm, Firm.id == InboundText.firm_id)
    .where(InboundText.provider_id == bindparam("provider_id"))
    .with_for_update(of=InboundText)
)
_RECORD_HANDLING = (
    update(_INBOUND_TEXTS)
    .where(_INBOUND_TEXTS.c.id == bindparam("text_id"))
    .values(
        {
            column: bindparam(column)
            for column in ("handled_at", *(f.name for f in fields(_Handling)))
        }
    )
)
_OPT_OUT = insert(SmsOptOut).values(
    id=bindparam("id"),
    firm_id=bindparam("firm_id"),
    phone_number=bindparam("number"),
    opted_out_at=bindparam("at"),
)
_OPT_IN = delete(SmsOptOut).where(
    SmsOptOut.firm_id == bindparam("firm_id"), SmsOptOut.phone_number == bindparam("number")
)
_RECORD_CONSENT = insert(ConsentEvent).values(
    {
        column: bindparam(column)
        for column in ("id", "firm_id", "phone_number", "action", "text", "inbound_text_id", "at")
    }
)

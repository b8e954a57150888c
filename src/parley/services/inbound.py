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
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    BindParameter,
    Table,
    Uuid,
    bindparam,
    delete,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from parley.db.conversations import (
    ClientMessage,
    add_client_message,
    client_message_after,
    client_message_params,
)
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
    """Store and handle one inbound text; returns the text to answer with, if any.

    No transaction is held while a text is decided: what handling decides is written in
    one go, and only if nothing handled the text meanwhile (a Twilio retry arriving at
    the same time), so each text is handled once and every retry gets its answer.
    """
    text = await _store_as_received(ctx, received)
    if text is None:  # stored already: a Twilio retry
        text = await _stored_text(ctx, received.provider_id)
        if text.handled_at is not None:
            return text.reply_body  # handled already: the same answer
    now = ctx.clock()
    if text.firm_id is None:
        log.warning("text %s to %s: no firm has that number", text.provider_id, text.to_number)
        return await _record_handling(ctx, text, _Handling(Outcome.UNROUTABLE), now)
    keyword = classify_keyword(text.body)
    if keyword is not None:
        return await _obey_keyword(ctx, text, keyword, now)
    return await _route_reply(ctx, text, now)


async def _stored_text(ctx: ServiceContext, provider_id: str) -> _StoredText:
    async with ctx.db.statements() as statements:
        found = await statements.row(_TEXT_TO_HANDLE, {"provider_id": provider_id})
    assert found is not None  # stored before it is looked for, and texts are never deleted
    return _StoredText._make(found)


async def _answer_given(ctx: ServiceContext, text: _StoredText) -> str | None:
    """The answer of whatever handled `text` while this request was deciding."""
    handled = await _stored_text(ctx, text.provider_id)
    return handled.reply_body


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


class _Handling(NamedTuple):
    """What handling decided, as the columns of the text that record it. A tuple: its
    `_asdict()` is what every text's record is made from, where a dataclass's `asdict`
    deep-copied each field (about 5 % of an inbound text's CPU)."""

    outcome: str
    reply_body: str | None = None
    keyword: str | None = None
    contact_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = None
    hold_reason: str | None = None
    notice_sent_at: datetime | None = None


async def _store_as_received(ctx: ServiceContext, received: ReceivedText) -> _StoredText | None:
    """The text as stored, or None if it was stored already (a retry, maybe concurrent),
    which this leaves as it was."""
    region = ctx.settings.default_phone_region
    store = _STORE_AS_RECEIVED[ctx.db.is_sqlite]
    async with ctx.db.statements() as statements:
        stored = await statements.row(
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
    return None if stored is None else _StoredText._make(stored)


def _handling_params(text: _StoredText, handling: _Handling, now: datetime) -> dict[str, Any]:
    return {"text_id": text.id, "handled_at": now, **handling._asdict()}


async def _record_handling(
    ctx: ServiceContext, text: _StoredText, handling: _Handling, now: datetime
) -> str | None:
    """Records `handling` unless the text was handled meanwhile; the answer that stands."""
    async with ctx.db.statements() as statements:
        ours = await statements.row(_RECORD_HANDLING, _handling_params(text, handling, now))
    return handling.reply_body if ours is not None else await _answer_given(ctx, text)


async def _obey_keyword(
    ctx: ServiceContext, text: _StoredText, keyword: Keyword, now: datetime
) -> str | None:
    assert text.firm_id is not None and text.firm_name is not None
    answer = None
    if not ctx.settings.provider_answers_keywords:
        answer = keyword_answer(keyword, text.firm_name, text.firm_email_from)
    handling = _Handling(Outcome.KEYWORD, reply_body=answer, keyword=keyword)
    firm_id, number = text.firm_id, text.from_number
    number_of_firm = {"firm_id": firm_id, "number": number}
    async with ctx.db.statements_in_transaction() as statements:
        # Recorded first: the text's row, locked until the end, keeps a retry out.
        ours = await statements.row(_RECORD_HANDLING, _handling_params(text, handling, now))
        if ours is not None and keyword is Keyword.STOP:
            if not await is_opted_out(statements, firm_id, number):
                await statements.run(_OPT_OUT, {**number_of_firm, "id": new_id(), "at": now})
            await _record_consent(statements, firm_id, text, "opt_out", now)
        elif ours is not None and keyword is Keyword.START:
            await statements.run(_OPT_IN, number_of_firm)
            await _record_consent(statements, firm_id, text, "opt_in", now)
    return answer if ours is not None else await _answer_given(ctx, text)


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


async def _route_reply(ctx: ServiceContext, text: _StoredText, now: datetime) -> str | None:
    assert text.firm_id is not None and text.firm_name is not None
    # One connection from the facts to the write: on PostgreSQL each statement commits
    # on its own; on SQLite the block is one transaction, so no other handles the text.
    async with ctx.db.statements() as statements:
        facts = await routing_facts(statements, ctx, text.firm_id, text.from_number, now)
        decision = decide_reply_route(facts)
        if isinstance(decision, FileInConversation):
            message = filed_message(
                FiledWords(text.firm_id, text.body, text.media),
                decision.conversation_id,
                decision.contact_id,
                decision.in_reply_to_id,
                now,
            )
            handling = _Handling(
                Outcome.FILED, contact_id=decision.contact_id, message_id=message.id
            )
            ours = await _file(statements, ctx.db.is_sqlite, text, handling, message, now)
        else:
            assert isinstance(decision, HoldInInbox)
            handling = _Handling(
                Outcome.HELD, hold_reason=decision.reason, contact_id=decision.contact_id
            )
            if decision.send_notice:
                notice = held_reply_notice(text.firm_name, decision.reason)
                handling = handling._replace(reply_body=notice, notice_sent_at=now)
            params = _handling_params(text, handling, now)
            ours = await statements.row(_RECORD_HANDLING, params) is not None
    return handling.reply_body if ours else await _answer_given(ctx, text)


async def _file(
    statements: Statements,
    is_sqlite: bool,
    text: _StoredText,
    filed: _Handling,
    message: ClientMessage,
    now: datetime,
) -> bool:
    """Files `message` and records `filed`, both or neither: not if the text was handled
    meanwhile. On PostgreSQL one statement; SQLite, with no data-modifying WITH and no
    round trips to save, takes the same steps in the transaction `statements` is in."""
    params = _handling_params(text, filed, now)
    if not is_sqlite:
        filing = {**client_message_params(message), **params}
        return await statements.row(_FILE_AND_RECORD, filing) is not None
    # Asked first, not by the guarded record: the record names the message, which must
    # exist by then (SQLite checks the foreign key at once).
    found = await statements.row(_TEXT_TO_HANDLE, {"provider_id": text.provider_id})
    assert found is not None
    if _StoredText._make(found).handled_at is not None:
        return False
    await add_client_message(statements, message)
    await statements.run(_RECORD_HANDLING, params)
    return True


class FiledWords(NamedTuple):
    """What of a received text becomes the message."""

    firm_id: uuid.UUID
    body: str
    media: list[dict[str, str]]


def filed_message(
    text: FiledWords,
    conversation_id: uuid.UUID,
    contact_id: uuid.UUID,
    in_reply_to_id: uuid.UUID | None,
    now: datetime,
) -> ClientMessage:
    """The message from the contact that a received text becomes."""
    return ClientMessage(
        firm_id=text.firm_id,
        conversation_id=conversation_id,
        contact_id=contact_id,
        body=text.body,
        channel=Channel.SMS,
        in_reply_to_id=in_reply_to_id,
        media=text.media or None,
        created_at=now,
    )


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
    message = filed_message(text, conversation_id, contact_id, in_reply_to_id, now)
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
_FIRMS = cast(Table, Firm.__table__)
# What handling reads of a text (_StoredText), its firm's by subqueries: the insert that
# stores a text returns them too, and RETURNING can name no other table. SQLAlchemy
# correlates a subquery to an enclosing SELECT but not to an INSERT, so the text's firm
# is named as SQL.
_TEXTS_FIRM = literal_column("inbound_texts.firm_id", Uuid)
_TEXT_COLUMNS = (
    *(
        _INBOUND_TEXTS.c[column]
        for column in (
            "id",
            "firm_id",
            "from_number",
            "to_number",
            "provider_id",
            "body",
            "media",
            "handled_at",
            "reply_body",
        )
    ),
    *(
        select(_FIRMS.c[column]).where(_FIRMS.c.id == _TEXTS_FIRM).scalar_subquery()
        for column in ("name", "email_from")
    ),
)
# By whether the database is SQLite: each dialect spells ON CONFLICT with its own insert().
_STORE_AS_RECEIVED = {
    is_sqlite: dialect_insert(_INBOUND_TEXTS)
    .values(firm_id=_FIRM_OF_NUMBER, **_STORED_COLUMNS)
    .on_conflict_do_nothing(index_elements=["provider_id"])
    .returning(*_TEXT_COLUMNS)
    for is_sqlite, dialect_insert in ((False, postgresql_insert), (True, sqlite_insert))
}
_TEXT_TO_HANDLE = select(*_TEXT_COLUMNS).where(
    _INBOUND_TEXTS.c.provider_id == bindparam("provider_id")
)
# Yields the text's id only if nothing had handled it: a retry handling it at the same
# time waits for this row and then finds it handled.
_RECORD_HANDLING = (
    update(_INBOUND_TEXTS)
    .where(_INBOUND_TEXTS.c.id == bindparam("text_id"), _INBOUND_TEXTS.c.handled_at.is_(None))
    .values({column: bindparam(column) for column in ("handled_at", *_Handling._fields)})
    .returning(_INBOUND_TEXTS.c.id)
)
_FILE_AND_RECORD = client_message_after(_RECORD_HANDLING)
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

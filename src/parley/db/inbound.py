"""Queries about received texts and the facts that decide where they go."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Uuid, bindparam, cast, func, literal, null, select, union_all

from parley.db.models import Contact, InboundText, SmsDelivery
from parley.db.opt_outs import opted_out
from parley.db.statements import Statements
from parley.db.types import UTCDateTime
from parley.domain.delivery_status import DeliveryStatus
from parley.domain.reply_routing import TextToNumber


class SenderFacts(NamedTuple):
    """What the database knows about a number a text came from, for the routing rule."""

    contact_ids: frozenset[uuid.UUID]
    texts_to_number: tuple[TextToNumber, ...]
    opted_out: bool
    last_notice_at: datetime | None


# One round trip for all four facts, each row tagged with the fact it gives (every
# text from a client asks; the statement is built once). The texts come first: their
# columns give the union its types, which the other facts fill with typed NULLs.
_NO_ID = cast(null(), Uuid)
_NO_TIME = cast(null(), UTCDateTime())
_SENDER_FACTS = union_all(
    select(
        literal("text").label("fact"),
        SmsDelivery.conversation_id,
        SmsDelivery.contact_id,
        SmsDelivery.message_id,
        SmsDelivery.created_at.label("at"),
    ).where(
        SmsDelivery.firm_id == bindparam("firm_id"),
        SmsDelivery.to_number == bindparam("number"),
        SmsDelivery.created_at >= bindparam("since"),
        SmsDelivery.status != DeliveryStatus.FAILED,
    ),
    select(literal("contact"), _NO_ID, Contact.id, _NO_ID, _NO_TIME).where(
        Contact.firm_id == bindparam("firm_id"), Contact.mobile_phone == bindparam("number")
    ),
    select(literal("opted_out"), _NO_ID, _NO_ID, _NO_ID, _NO_TIME).where(
        opted_out(bindparam("firm_id"), bindparam("number"))
    ),
    select(literal("notice"), _NO_ID, _NO_ID, _NO_ID, func.max(InboundText.notice_sent_at)).where(
        InboundText.firm_id == bindparam("firm_id"), InboundText.from_number == bindparam("number")
    ),
)


async def sender_facts(
    statements: Statements, firm_id: uuid.UUID, number: str, since: datetime
) -> SenderFacts:
    """Contacts of the firm with this mobile; the firm's texts to it since `since` that
    were not refused outright; whether it opted out; the last "use the link" notice."""
    rows = await statements.rows(
        _SENDER_FACTS, {"firm_id": firm_id, "number": number, "since": since}
    )
    contact_ids: set[uuid.UUID] = set()
    texts: list[TextToNumber] = []
    opted_out = False
    last_notice_at = None
    for fact, conversation_id, contact_id, message_id, at in rows:
        if fact == "text":
            texts.append(TextToNumber(conversation_id, contact_id, message_id, at))
        elif fact == "contact":
            contact_ids.add(contact_id)
        elif fact == "opted_out":
            opted_out = True
        else:
            last_notice_at = at
    return SenderFacts(frozenset(contact_ids), tuple(texts), opted_out, last_notice_at)

"""The firm's inbox: texts that could not be filed, until staff file them."""

from __future__ import annotations

import uuid

from sqlalchemy import select, tuple_

from parley.db.conversations import is_participant
from parley.db.models import Contact, Conversation, InboundText, Message
from parley.db.statements import CoreStatements
from parley.db.tenancy import get_for_firm
from parley.domain.errors import Conflict, InvalidInput
from parley.services.audit import AuditAction, record
from parley.services.context import FirmScope, ServiceContext
from parley.services.inbound import FiledWords, Outcome, file_text
from parley.services.messages import message_views
from parley.services.pagination import DEFAULT_PAGE_SIZE, Cursor, Page
from parley.services.views import InboxItemView, MessageView


async def list_inbox(
    ctx: ServiceContext, scope: FirmScope, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None
) -> Page[InboxItemView]:
    """Held texts, newest first, filed or not (a filed one shows where it went)."""
    query = (
        select(InboundText, Contact, Message.conversation_id)
        .outerjoin(Contact, Contact.id == InboundText.contact_id)
        .outerjoin(Message, Message.id == InboundText.message_id)
        .where(InboundText.firm_id == scope.firm_id, InboundText.outcome == Outcome.HELD)
    )
    if cursor:
        after = Cursor.decode(cursor)
        query = query.where(tuple_(InboundText.received_at, InboundText.id) < (after.at, after.id))
    query = query.order_by(InboundText.received_at.desc(), InboundText.id.desc())
    async with ctx.db.sessions() as session:
        rows = list(await session.execute(query.limit(limit + 1)))
    items = [InboxItemView.of(text, contact, filed_in) for text, contact, filed_in in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return Page(items, Cursor(last.received_at, last.id).encode() if last else None)


async def file_from_inbox(
    ctx: ServiceContext,
    scope: FirmScope,
    item_id: uuid.UUID,
    *,
    conversation_id: uuid.UUID,
    contact_id: uuid.UUID | None,
) -> MessageView:
    """File a held text into a conversation as a message from its sender, once."""
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        text = await get_for_firm(
            session, InboundText, item_id, scope.firm_id, label="inbox item", for_update=True
        )
        if text.outcome != Outcome.HELD:
            raise InvalidInput("Only texts held in the inbox can be filed from it.")
        if text.message_id is not None:
            raise Conflict("This text has already been filed into a conversation.")
        conversation = await get_for_firm(
            session, Conversation, conversation_id, scope.firm_id, label="conversation"
        )
        author = contact_id or text.contact_id
        if author is None:
            raise InvalidInput(
                "The sender is not a known contact; say which contact wrote it (contact_id).",
                field="contact_id",
            )
        contact = await get_for_firm(session, Contact, author, scope.firm_id, label="contact")
        if not await is_participant(session, conversation.id, contact.id):
            raise InvalidInput(
                f"{contact.name} is not taking part in that conversation.",
                field="conversation_id",
            )
        assert text.firm_id is not None  # held texts are the firm's
        words = FiledWords(text.firm_id, text.body, text.media)
        statements = CoreStatements(await session.connection())
        message_id = await file_text(statements, words, conversation.id, contact.id, None, now)
        message = await session.get_one(Message, message_id)
        text.message_id = message.id
        text.contact_id = contact.id
        text.filed_by_staff_id = scope.staff_id
        text.filed_at = now
        record(
            session,
            scope,
            AuditAction.INBOX_TEXT_FILED,
            conversation_id=conversation.id,
            message_id=message.id,
            detail={"inbound_text_id": str(text.id)},
            at=now,
        )
        (view,) = await message_views(session, [message])
    return view

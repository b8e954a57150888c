"""Messages of a conversation: staff writing, and reading them back."""

from __future__ import annotations

import uuid

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.deliveries import deliveries_by_message
from parley.db.messages import author_names
from parley.db.models import Conversation, Message
from parley.db.tenancy import get_for_firm
from parley.domain.errors import InvalidInput
from parley.domain.messages import Channel, clean_body
from parley.services.audit import AuditAction, record
from parley.services.context import FirmScope, ServiceContext
from parley.services.email_notices import schedule_notices
from parley.services.idempotency import Posted, answered, answered_before, keyed
from parley.services.pagination import DEFAULT_PAGE_SIZE, Cursor, Page
from parley.services.texting import QueuedTexts, queue_texts
from parley.services.views import (
    AuthorView,
    MediaView,
    MessageView,
    PostedMessageView,
    SmsView,
)


async def post_staff_message(
    ctx: ServiceContext,
    scope: FirmScope,
    conversation_id: uuid.UUID,
    *,
    body: str,
    send_as_sms: bool,
    idempotency_key: str | None = None,
) -> Posted:
    """A staff message is always a portal message (DESIGN §2 rule 1)."""
    request = keyed(
        idempotency_key, "post_message", conversation_id, body=body, send_as_sms=send_as_sms
    )
    text = clean_body(body)
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        if earlier := await answered_before(session, scope, request, now):
            return earlier
        conversation = await get_for_firm(
            session,
            Conversation,
            conversation_id,
            scope.firm_id,
            label="conversation",
            for_update=True,
        )
        message = Message(
            firm_id=scope.firm_id,
            conversation_id=conversation.id,
            author_staff_id=scope.staff_id,
            body=text,
            channel=Channel.PORTAL,
            send_as_sms=send_as_sms,
            created_at=now,
        )
        session.add(message)
        conversation.last_activity_at = now
        await session.flush()
        queued = (
            await queue_texts(session, ctx.settings, message, now)
            if send_as_sms
            else QueuedTexts(deliveries=0, not_texted=[])
        )
        await schedule_notices(session, ctx.settings, message, now)
        record(
            session,
            scope,
            AuditAction.MESSAGE_SENT,
            conversation_id=conversation.id,
            message_id=message.id,
            detail={"send_as_sms": send_as_sms, "recipients": queued.deliveries},
            at=now,
        )
        (view,) = await message_views(session, [message])
        posted = await answered(
            session,
            scope,
            request,
            PostedMessageView(**view.model_dump(), not_texted=queued.not_texted),
        )
    if send_as_sms:
        ctx.dispatch_wakeup.set()
    return posted


async def resend_as_sms(
    ctx: ServiceContext,
    scope: FirmScope,
    message_id: uuid.UUID,
    *,
    idempotency_key: str | None = None,
) -> Posted:
    """Text an existing staff message again: new deliveries and links, old ones untouched."""
    request = keyed(idempotency_key, "resend_sms", message_id)
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        if earlier := await answered_before(session, scope, request, now):
            return earlier
        message = await get_for_firm(session, Message, message_id, scope.firm_id, label="message")
        if message.author_staff_id is None:
            raise InvalidInput("Only messages written by staff can be resent as SMS.")
        queued = await queue_texts(session, ctx.settings, message, now)
        record(
            session,
            scope,
            AuditAction.SMS_RESENT,
            conversation_id=message.conversation_id,
            message_id=message.id,
            detail={"recipients": queued.deliveries},
            at=now,
        )
        (view,) = await message_views(session, [message])
        posted = await answered(
            session,
            scope,
            request,
            PostedMessageView(**view.model_dump(), not_texted=queued.not_texted),
        )
    ctx.dispatch_wakeup.set()
    return posted


async def list_messages(
    ctx: ServiceContext,
    scope: FirmScope,
    conversation_id: uuid.UUID,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None,
) -> Page[MessageView]:
    """A conversation's messages, oldest first."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if cursor:
        after = Cursor.decode(cursor)
        query = query.where(tuple_(Message.created_at, Message.id) > (after.at, after.id))
    query = query.order_by(Message.created_at, Message.id).limit(limit + 1)
    async with ctx.db.sessions() as session:
        await get_for_firm(
            session, Conversation, conversation_id, scope.firm_id, label="conversation"
        )
        rows = list(await session.scalars(query))
        views = await message_views(session, rows[:limit])
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(
        items=views, next_cursor=Cursor(last.created_at, last.id).encode() if last else None
    )


async def get_message(ctx: ServiceContext, scope: FirmScope, message_id: uuid.UUID) -> MessageView:
    async with ctx.db.sessions() as session:
        message = await get_for_firm(session, Message, message_id, scope.firm_id, label="message")
        (view,) = await message_views(session, [message])
    return view


async def message_views(session: AsyncSession, messages: list[Message]) -> list[MessageView]:
    names = await author_names(session, messages)
    deliveries = await deliveries_by_message(session, [m.id for m in messages])
    return [
        MessageView(
            id=m.id,
            conversation_id=m.conversation_id,
            author=author_view(m, names),
            body=m.body,
            channel=m.channel,
            created_at=m.created_at,
            in_reply_to_id=m.in_reply_to_id,
            send_as_sms=m.send_as_sms,
            media=[MediaView(**item) for item in m.media or []],
            sms=[SmsView.of(d, opened_at) for d, opened_at in deliveries.get(m.id, [])],
        )
        for m in messages
    ]


def author_view(message: Message, names: dict[uuid.UUID, str]) -> AuthorView:
    if message.author_staff_id is not None:
        return AuthorView(
            type="staff", id=message.author_staff_id, name=names[message.author_staff_id]
        )
    assert message.author_contact_id is not None
    return AuthorView(
        type="contact", id=message.author_contact_id, name=names[message.author_contact_id]
    )

"""What the staff Messages tab shows: the conversation list and one conversation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.conversations import current_participants
from parley.db.models import (
    Contact,
    Conversation,
    ConversationParticipant,
    ConversationRead,
    Firm,
    Matter,
    Message,
    SmsDelivery,
)
from parley.db.opt_outs import opted_out_numbers
from parley.domain.storable_text import storable
from parley.services.context import FirmScope, ServiceContext
from parley.services.conversations import get_conversation
from parley.services.messages import message_views
from parley.services.views import ConversationView, MessageView

THREAD_LIMIT = 200


@dataclass(frozen=True)
class ConversationRow:
    id: uuid.UUID
    subject: str
    matter_title: str
    matter_reference: str | None
    people: str
    last_activity_at: datetime
    unread: bool


@dataclass(frozen=True)
class Thread:
    conversation: ConversationView
    messages: list[MessageView]
    originals: dict[uuid.UUID, MessageView]  # messages that replies answer
    warnings: list[str]  # who will not get a text, and why
    firm_name: str
    segment_limit: int
    fingerprint: str  # changes whenever anything shown here changes


async def conversation_rows(
    ctx: ServiceContext, scope: FirmScope, *, search: str = "", limit: int = 100
) -> list[ConversationRow]:
    """The firm's conversations, latest activity first, optionally searched."""
    last_from_client = (
        select(Message.conversation_id, func.max(Message.created_at).label("at"))
        .where(Message.firm_id == scope.firm_id, Message.author_contact_id.is_not(None))
        .group_by(Message.conversation_id)
        .subquery()
    )
    query = (
        select(Conversation, Matter, last_from_client.c.at, ConversationRead.read_at)
        .join(Matter, Matter.id == Conversation.matter_id)
        .outerjoin(last_from_client, last_from_client.c.conversation_id == Conversation.id)
        .outerjoin(
            ConversationRead,
            (ConversationRead.conversation_id == Conversation.id)
            & (ConversationRead.staff_id == scope.staff_id),
        )
        .where(Conversation.firm_id == scope.firm_id)
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    if search.strip():
        pattern = f"%{storable(search.strip().lower())}%"
        by_contact = (
            select(ConversationParticipant.conversation_id)
            .join(Contact, Contact.id == ConversationParticipant.contact_id)
            .where(func.lower(Contact.name).like(pattern))
        )
        query = query.where(
            or_(
                func.lower(Conversation.subject).like(pattern),
                func.lower(Matter.title).like(pattern),
                func.lower(func.coalesce(Matter.reference, "")).like(pattern),
                Conversation.id.in_(by_contact),
            )
        )
    async with ctx.db.sessions() as session:
        rows = list(await session.execute(query))
        people = await current_participants(session, [c.id for c, *_ in rows])
    return [
        ConversationRow(
            id=conversation.id,
            subject=conversation.subject,
            matter_title=matter.title,
            matter_reference=matter.reference,
            people=", ".join(p.name for p in people.get(conversation.id, [])),
            last_activity_at=conversation.last_activity_at,
            unread=client_at is not None and (read_at is None or client_at > read_at),
        )
        for conversation, matter, client_at, read_at in rows
    ]


async def open_thread(
    ctx: ServiceContext, scope: FirmScope, conversation_id: uuid.UUID, *, mark_read: bool
) -> Thread:
    conversation = await get_conversation(ctx, scope, conversation_id)
    async with ctx.db.transaction() as session:
        rows = list(
            await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id)
                .order_by(Message.created_at.desc(), Message.id.desc())
                .limit(THREAD_LIMIT)
            )
        )
        messages = await message_views(session, list(reversed(rows)))
        shown = {m.id for m in messages}
        answered = {m.in_reply_to_id for m in messages if m.in_reply_to_id} - shown
        elsewhere = (
            await message_views(
                session,
                list(await session.scalars(select(Message).where(Message.id.in_(answered)))),
            )
            if answered
            else []
        )
        originals = {m.id: m for m in [*messages, *elsewhere]}
        firm = await session.get_one(Firm, scope.firm_id)
        opted_out = await opted_out_numbers(
            session,
            scope.firm_id,
            [p.mobile_phone for p in conversation.participants if p.mobile_phone],
        )
        latest_change = await session.scalar(
            select(func.max(SmsDelivery.updated_at)).where(
                SmsDelivery.conversation_id == conversation_id
            )
        )
        if mark_read:
            await _mark_read(session, scope, conversation_id, ctx.clock())
    warnings = [
        f"{p.name} has no mobile number and will not get a text."
        for p in conversation.participants
        if not p.mobile_phone
    ] + [
        f"{p.name} has opted out of texts (replied STOP) and will not get one."
        for p in conversation.participants
        if p.mobile_phone in opted_out
    ]
    opened = sorted(str(s.opened_at) for m in messages for s in m.sms if s.opened_at)
    fingerprint = f"{len(messages)}|{messages[-1].id if messages else ''}|{latest_change}|{opened}"
    return Thread(
        conversation=conversation,
        messages=messages,
        originals=originals,
        warnings=warnings,
        firm_name=firm.name,
        segment_limit=firm.sms_segment_limit,
        fingerprint=fingerprint,
    )


async def _mark_read(
    session: AsyncSession, scope: FirmScope, conversation_id: uuid.UUID, now: datetime
) -> None:
    read = await session.scalar(
        select(ConversationRead).where(
            ConversationRead.staff_id == scope.staff_id,
            ConversationRead.conversation_id == conversation_id,
        )
    )
    if read is None:
        session.add(
            ConversationRead(staff_id=scope.staff_id, conversation_id=conversation_id, read_at=now)
        )
    else:
        read.read_at = now

"""Matter conversations: starting them and listing them for staff."""

from __future__ import annotations

import uuid

from sqlalchemy import tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.conversations import current_participants, matters_by_id
from parley.db.models import Contact, Conversation, ConversationParticipant, Matter
from parley.db.tenancy import get_for_firm, select_for_firm
from parley.domain.errors import InvalidInput, NotFound
from parley.services.context import FirmScope, ServiceContext
from parley.services.pagination import DEFAULT_PAGE_SIZE, Cursor, Page
from parley.services.views import ConversationView, MatterView, ParticipantView


async def start_conversation(
    ctx: ServiceContext,
    scope: FirmScope,
    *,
    matter_id: uuid.UUID,
    subject: str,
    participant_ids: list[uuid.UUID],
) -> ConversationView:
    subject = subject.strip()
    if not subject:
        raise InvalidInput("A conversation needs a subject.", field="subject")
    unique_ids = list(dict.fromkeys(participant_ids))
    if not unique_ids:
        raise InvalidInput(
            "A conversation needs at least one contact taking part.", field="participant_ids"
        )
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        await get_for_firm(session, Matter, matter_id, scope.firm_id, label="matter")
        found = set(
            await session.scalars(
                select_for_firm(Contact, scope.firm_id)
                .where(Contact.id.in_(unique_ids))
                .with_only_columns(Contact.id)
            )
        )
        missing = [str(i) for i in unique_ids if i not in found]
        if missing:
            raise NotFound(f"No contact with id {', '.join(missing)}.")
        conversation = Conversation(
            firm_id=scope.firm_id,
            matter_id=matter_id,
            subject=subject,
            created_at=now,
            last_activity_at=now,
        )
        session.add(conversation)
        await session.flush()
        session.add_all(
            ConversationParticipant(conversation_id=conversation.id, contact_id=cid, added_at=now)
            for cid in unique_ids
        )
        await session.flush()
        (view,) = await _views(session, [conversation])
    return view


async def list_conversations(
    ctx: ServiceContext, scope: FirmScope, *, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None
) -> Page[ConversationView]:
    """The firm's conversations, latest activity first."""
    query = select_for_firm(Conversation, scope.firm_id)
    if cursor:
        after = Cursor.decode(cursor)
        query = query.where(
            tuple_(Conversation.last_activity_at, Conversation.id) < (after.at, after.id)
        )
    query = query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    async with ctx.db.sessions() as session:
        rows = list(await session.scalars(query.limit(limit + 1)))
        views = await _views(session, rows[:limit])
    next_cursor = (
        Cursor(rows[limit - 1].last_activity_at, rows[limit - 1].id).encode()
        if len(rows) > limit
        else None
    )
    return Page(items=views, next_cursor=next_cursor)


async def get_conversation(
    ctx: ServiceContext, scope: FirmScope, conversation_id: uuid.UUID
) -> ConversationView:
    async with ctx.db.sessions() as session:
        conversation = await get_for_firm(
            session, Conversation, conversation_id, scope.firm_id, label="conversation"
        )
        (view,) = await _views(session, [conversation])
    return view


async def _views(
    session: AsyncSession, conversations: list[Conversation]
) -> list[ConversationView]:
    participants = await current_participants(session, [c.id for c in conversations])
    matters = await matters_by_id(session, {c.matter_id for c in conversations})
    return [
        ConversationView(
            id=c.id,
            matter=MatterView.of(matters[c.matter_id]),
            subject=c.subject,
            participants=[
                ParticipantView(
                    contact_id=p.id, name=p.name, mobile_phone=p.mobile_phone, email=p.email
                )
                for p in participants.get(c.id, [])
            ],
            created_at=c.created_at,
            last_activity_at=c.last_activity_at,
        )
        for c in conversations
    ]

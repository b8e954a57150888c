"""Everything recorded about one matter, as one document (the `parley export` command).

An operator's tool: it reads across firms by matter id, without a FirmScope, and is
meant for records requests, handovers and disputes ("what exactly was sent, when, and
what came back"). Each table is read once for the whole matter, inside one snapshot.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.messages import author_names
from parley.db.models import (
    AuditEntry,
    Contact,
    Conversation,
    ConversationParticipant,
    DeliveryEvent,
    Firm,
    InboundText,
    Matter,
    Message,
    SmsDelivery,
    StaffUser,
)
from parley.domain.errors import NotFound
from parley.services.audit import AuditEntryView, view_of
from parley.services.context import ServiceContext
from parley.services.messages import author_view
from parley.services.views import AuthorView, MediaView


class FirmRef(BaseModel):
    id: uuid.UUID
    name: str


class ExportedMatter(BaseModel):
    id: uuid.UUID
    title: str
    reference: str | None
    created_at: datetime
    firm: FirmRef


class ExportedParticipant(BaseModel):
    contact_id: uuid.UUID
    name: str
    email: str | None
    mobile_phone: str | None
    added_at: datetime
    removed_at: datetime | None


class ExportedEvent(BaseModel):
    provider_status: str
    error_code: str | None
    received_at: datetime
    params: dict[str, str]


class ExportedDelivery(BaseModel):
    """One text to one recipient. Its body is left out: it holds a live reply link."""

    id: uuid.UUID
    contact_id: uuid.UUID
    to_number: str
    from_number: str
    status: str
    error_code: str | None
    error_message: str | None
    provider_id: str | None
    segments: int
    attempts: int
    created_at: datetime
    updated_at: datetime
    events: list[ExportedEvent]


class ExportedMessage(BaseModel):
    id: uuid.UUID
    author: AuthorView
    body: str
    channel: str
    created_at: datetime
    in_reply_to_id: uuid.UUID | None
    send_as_sms: bool
    media: list[MediaView]
    sms: list[ExportedDelivery]


class ExportedInboundText(BaseModel):
    """A client's text exactly as it arrived, before it became a message."""

    id: uuid.UUID
    message_id: uuid.UUID
    provider_id: str
    from_number: str
    to_number: str
    body: str
    received_at: datetime
    params: dict[str, str]
    media: list[MediaView]
    outcome: str | None
    hold_reason: str | None
    filed_by_staff_id: uuid.UUID | None
    filed_at: datetime | None


class ExportedConversation(BaseModel):
    id: uuid.UUID
    subject: str
    created_at: datetime
    last_activity_at: datetime
    participants: list[ExportedParticipant]
    messages: list[ExportedMessage]
    inbound_texts: list[ExportedInboundText]
    audit: list[AuditEntryView]


class MatterExport(BaseModel):
    exported_at: datetime
    matter: ExportedMatter
    conversations: list[ExportedConversation]


async def export_matter(ctx: ServiceContext, matter_id: uuid.UUID) -> MatterExport:
    exported_at = ctx.clock()
    async with ctx.db.sessions() as session:
        if not ctx.db.is_sqlite:
            await _read_one_snapshot(session)
        found = (
            await session.execute(
                select(Matter, Firm)
                .join(Firm, Firm.id == Matter.firm_id)
                .where(Matter.id == matter_id)
            )
        ).one_or_none()
        if found is None:
            raise NotFound(f"No matter with id {matter_id}.")
        matter, firm = found
        conversations = list(
            await session.scalars(
                select(Conversation)
                .where(Conversation.matter_id == matter.id)
                .order_by(Conversation.created_at, Conversation.id)
            )
        )
        ids = [c.id for c in conversations]
        participants = await _participants(session, ids)
        messages = await _messages(session, ids)
        inbound = await _inbound_texts(session, ids)
        audit = await _audit_entries(session, ids)
    return MatterExport(
        exported_at=exported_at,
        matter=ExportedMatter(
            id=matter.id,
            title=matter.title,
            reference=matter.reference,
            created_at=matter.created_at,
            firm=FirmRef(id=firm.id, name=firm.name),
        ),
        conversations=[
            ExportedConversation(
                id=c.id,
                subject=c.subject,
                created_at=c.created_at,
                last_activity_at=c.last_activity_at,
                participants=participants.get(c.id, []),
                messages=messages.get(c.id, []),
                inbound_texts=inbound.get(c.id, []),
                audit=audit.get(c.id, []),
            )
            for c in conversations
        ],
    )


async def _read_one_snapshot(session: AsyncSession) -> None:
    """Make every query of the export see the same committed state on PostgreSQL.

    Its default isolation gives each statement its own snapshot, so a text arriving
    mid-export could show up in one table and not in another. (A SQLite transaction
    holds the database's one lock from its first statement: one state throughout.)
    """
    await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def _participants(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ExportedParticipant]]:
    """Everyone who ever took part, removed ones too: the record should say who saw what."""
    rows = await session.execute(
        select(ConversationParticipant, Contact)
        .join(Contact, Contact.id == ConversationParticipant.contact_id)
        .where(ConversationParticipant.conversation_id.in_(conversation_ids))
        .order_by(ConversationParticipant.added_at, ConversationParticipant.id)
    )
    found: dict[uuid.UUID, list[ExportedParticipant]] = defaultdict(list)
    for participant, contact in rows:
        found[participant.conversation_id].append(
            ExportedParticipant(
                contact_id=contact.id,
                name=contact.name,
                email=contact.email,
                mobile_phone=contact.mobile_phone,
                added_at=participant.added_at,
                removed_at=participant.removed_at,
            )
        )
    return found


async def _messages(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ExportedMessage]]:
    rows = list(
        await session.scalars(
            select(Message)
            .where(Message.conversation_id.in_(conversation_ids))
            .order_by(Message.created_at, Message.id)
        )
    )
    names = await author_names(session, rows)
    deliveries = await _deliveries(session, conversation_ids)
    found: dict[uuid.UUID, list[ExportedMessage]] = defaultdict(list)
    for m in rows:
        found[m.conversation_id].append(
            ExportedMessage(
                id=m.id,
                author=author_view(m, names),
                body=m.body,
                channel=m.channel,
                created_at=m.created_at,
                in_reply_to_id=m.in_reply_to_id,
                send_as_sms=m.send_as_sms,
                media=[MediaView(**item) for item in m.media or []],
                sms=deliveries.get(m.id, []),
            )
        )
    return found


async def _deliveries(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ExportedDelivery]]:
    """Each message's deliveries, oldest first, each with every provider event in order."""
    in_matter = SmsDelivery.conversation_id.in_(conversation_ids)
    event_rows = await session.scalars(
        select(DeliveryEvent)
        .join(SmsDelivery, SmsDelivery.id == DeliveryEvent.delivery_id)
        .where(in_matter)
        .order_by(DeliveryEvent.received_at, DeliveryEvent.id)
    )
    events: dict[uuid.UUID, list[ExportedEvent]] = defaultdict(list)
    for event in event_rows:
        events[event.delivery_id].append(
            ExportedEvent(
                provider_status=event.provider_status,
                error_code=event.error_code,
                received_at=event.received_at,
                params=event.params,
            )
        )
    found: dict[uuid.UUID, list[ExportedDelivery]] = defaultdict(list)
    for d in await session.scalars(
        select(SmsDelivery).where(in_matter).order_by(SmsDelivery.created_at, SmsDelivery.id)
    ):
        found[d.message_id].append(
            ExportedDelivery(
                id=d.id,
                contact_id=d.contact_id,
                to_number=d.to_number,
                from_number=d.from_number,
                status=d.status,
                error_code=d.error_code,
                error_message=d.error_message,
                provider_id=d.provider_id,
                segments=d.segments,
                attempts=d.attempts,
                created_at=d.created_at,
                updated_at=d.updated_at,
                events=events.get(d.id, []),
            )
        )
    return found


async def _inbound_texts(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[ExportedInboundText]]:
    """Texts that became messages of the matter, routed at once or filed from the inbox."""
    rows = await session.execute(
        select(InboundText, Message.conversation_id)
        .join(Message, Message.id == InboundText.message_id)
        .where(Message.conversation_id.in_(conversation_ids))
        .order_by(InboundText.received_at, InboundText.id)
    )
    found: dict[uuid.UUID, list[ExportedInboundText]] = defaultdict(list)
    for t, conversation_id in rows:
        assert t.message_id is not None
        found[conversation_id].append(
            ExportedInboundText(
                id=t.id,
                message_id=t.message_id,
                provider_id=t.provider_id,
                from_number=t.from_number,
                to_number=t.to_number,
                body=t.body,
                received_at=t.received_at,
                params=t.params,
                media=[MediaView(**item) for item in t.media],
                outcome=t.outcome,
                hold_reason=t.hold_reason,
                filed_by_staff_id=t.filed_by_staff_id,
                filed_at=t.filed_at,
            )
        )
    return found


async def _audit_entries(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[AuditEntryView]]:
    rows = await session.execute(
        select(AuditEntry, StaffUser.name)
        .join(StaffUser, StaffUser.id == AuditEntry.staff_id)
        .where(AuditEntry.conversation_id.in_(conversation_ids))
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    found: dict[uuid.UUID, list[AuditEntryView]] = defaultdict(list)
    for entry, staff_name in rows:
        found[entry.conversation_id].append(view_of(entry, staff_name))
    return found

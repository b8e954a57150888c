"""Email notices of new staff messages (DESIGN §2 rule 2).

A notice waits `email_notice_delay_seconds`; messages of the same conversation written
meanwhile join it, so a burst becomes one email; it is skipped when the contact opened
the conversation after the newest of its messages.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.conversations import current_participants
from parley.db.email_notices import WAITING, waiting_notice
from parley.db.messages import author_names
from parley.db.models import (
    Contact,
    Conversation,
    EmailNotice,
    Firm,
    Matter,
    Message,
)
from parley.domain.email_notice import NoticeEmail
from parley.services.reply_links import mint_reply_link, reply_link_url
from parley.settings import Settings


async def schedule_notices(
    session: AsyncSession, settings: Settings, message: Message, now: datetime
) -> None:
    """Every participant with an email hears of `message`, after the delay."""
    participants = (await current_participants(session, [message.conversation_id])).get(
        message.conversation_id, []
    )
    for contact in participants:
        if not contact.email:
            continue
        notice = await waiting_notice(session, message.conversation_id, contact.id)
        if notice is not None:
            notice.message_ids = [*notice.message_ids, str(message.id)]
            continue
        link, _ = mint_reply_link(
            session,
            settings,
            firm_id=message.firm_id,
            conversation_id=message.conversation_id,
            contact_id=contact.id,
            message_id=message.id,
            delivery_id=None,
            now=now,
        )
        await session.flush()
        session.add(
            EmailNotice(
                firm_id=message.firm_id,
                conversation_id=message.conversation_id,
                contact_id=contact.id,
                reply_link_id=link.id,
                to_email=contact.email,
                message_ids=[str(message.id)],
                status=WAITING,
                attempts=0,
                next_attempt_at=now + timedelta(seconds=settings.email_notice_delay_seconds),
                created_at=now,
            )
        )


async def compose_notice(
    session: AsyncSession, settings: Settings, notice: EmailNotice
) -> tuple[NoticeEmail, datetime]:
    """The email, and the time of its newest message (opened since then: skip it)."""
    firm = await session.get_one(Firm, notice.firm_id)
    conversation = await session.get_one(Conversation, notice.conversation_id)
    matter = await session.get_one(Matter, conversation.matter_id)
    contact = await session.get_one(Contact, notice.contact_id)
    messages = list(
        await session.scalars(
            select(Message)
            .where(Message.id.in_([uuid.UUID(i) for i in notice.message_ids]))
            .order_by(Message.created_at)
        )
    )
    names = await author_names(session, messages)
    count = len(messages)
    email = NoticeEmail(
        to=notice.to_email,
        from_address=firm.email_from or "no-reply@parley.invalid",
        subject=f"{firm.name}: {'a new message' if count == 1 else f'{count} new messages'}"
        f" about {matter.title}",
        greeting_name=contact.name,
        firm_name=firm.name,
        matter_title=matter.title,
        conversation_subject=conversation.subject,
        link=reply_link_url(settings, notice.reply_link_id),
        count=count,
        messages=(
            [(names[_author_id(m)], m.body) for m in messages]
            if firm.email_notice_includes_body
            else None
        ),
    )
    return email, max(m.created_at for m in messages)


def _author_id(message: Message) -> uuid.UUID:
    author = message.author_staff_id or message.author_contact_id
    assert author is not None
    return author

"""The no-login reply page behind a reply link (DESIGN §2 rules 8–9).

Opening a link changes nothing but its "opened" time, and not even that for link
previewers and mail scanners; a reply is saved once however often it is submitted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.conversations import add_to_conversation, is_participant
from parley.db.messages import author_names
from parley.db.models import Contact, Conversation, Firm, Message, ReplyLink
from parley.db.reply_links import link_by_token, newest_link_at
from parley.domain.errors import NotFound, ParleyError
from parley.domain.messages import Channel, clean_body
from parley.domain.reply_tokens import form_token, same_token
from parley.services.context import ServiceContext
from parley.services.texting import queue_fresh_link

PAGE_MESSAGES = 10
CUT_AT = 480  # characters of a long body shown before "Show more"
FRESH_LINK_INTERVAL = timedelta(minutes=15)


class LinkExpired(ParleyError):
    code = "link_expired"


class FormForged(ParleyError):
    code = "forbidden"


@dataclass(frozen=True)
class PageMessage:
    id: uuid.UUID
    author: str
    from_reader: bool
    from_firm: bool
    channel: str
    created_at: datetime
    shown: str
    more: str | None  # the rest of a long body, behind "Show more"


@dataclass(frozen=True)
class ReplyPage:
    firm_name: str
    subject: str
    reader_name: str
    messages: list[PageMessage]
    earlier: int  # messages older than those shown
    form_token: str


async def open_reply_page(ctx: ServiceContext, token: str, *, by_person: bool) -> ReplyPage:
    """The page; a person's first visit records when the link was opened."""
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        link = await _usable_link(session, token, now)
        if by_person and link.opened_at is None:
            link.opened_at = now
        return await _page(session, ctx, link)


async def reply_through_link(
    ctx: ServiceContext, token: str, *, body: str, form: str, idempotency_key: str
) -> ReplyPage:
    """Save the contact's reply (channel quick_link), once per idempotency key."""
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        link = await _usable_link(session, token, now, for_update=True)
        if not same_token(form, form_token(ctx.settings.secret_key, link.id)):
            raise FormForged("This form did not come from the reply page; open the link again.")
        text = clean_body(body)
        already = await session.scalar(
            select(Message.id).where(Message.idempotency_key == idempotency_key)
        )
        if already is None:
            await add_to_conversation(
                session,
                Message(
                    firm_id=link.firm_id,
                    conversation_id=link.conversation_id,
                    author_contact_id=link.contact_id,
                    body=text,
                    channel=Channel.QUICK_LINK,
                    in_reply_to_id=link.message_id,
                    idempotency_key=idempotency_key,
                    created_at=now,
                ),
            )
            link.opened_at = link.opened_at or now
            await session.flush()
        return await _page(session, ctx, link)


@dataclass(frozen=True)
class FreshLink:
    sent: bool
    explanation: str


async def text_fresh_link(ctx: ServiceContext, token: str) -> FreshLink:
    """For an expired link: text a new one to the same contact, at most every 15 minutes."""
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        link = await link_by_token(session, token)
        if link is None or not await is_participant(session, link.conversation_id, link.contact_id):
            raise NotFound("This link does not work.")
        newest = await newest_link_at(session, link.conversation_id, link.contact_id)
        if newest is not None and now - newest < FRESH_LINK_INTERVAL:
            return FreshLink(False, "A new link was sent a few minutes ago; check your texts.")
        queued = await queue_fresh_link(session, ctx.settings, link, now)
    if not queued:
        return FreshLink(False, "We cannot text this number; please contact the firm.")
    ctx.dispatch_wakeup.set()
    return FreshLink(True, "A new link is on its way by text.")


async def _usable_link(
    session: AsyncSession, token: str, now: datetime, *, for_update: bool = False
) -> ReplyLink:
    link = await link_by_token(session, token, for_update=for_update)
    # A contact who left the conversation loses access at once; say no more than
    # "not found" so a link reveals nothing once it stops working.
    if link is None or not await is_participant(session, link.conversation_id, link.contact_id):
        raise NotFound("This link does not work.")
    if now >= link.expires_at:
        raise LinkExpired("This link has expired.")
    return link


async def _page(session: AsyncSession, ctx: ServiceContext, link: ReplyLink) -> ReplyPage:
    firm = await session.get_one(Firm, link.firm_id)
    conversation = await session.get_one(Conversation, link.conversation_id)
    reader = await session.get_one(Contact, link.contact_id)
    latest = list(
        await session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation.id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(PAGE_MESSAGES + 1)
        )
    )
    shown = list(reversed(latest[:PAGE_MESSAGES]))
    names = await author_names(session, shown)
    return ReplyPage(
        firm_name=firm.name,
        subject=conversation.subject,
        reader_name=reader.name,
        messages=[_page_message(m, names, reader.id) for m in shown],
        earlier=len(latest) - len(shown),
        form_token=form_token(ctx.settings.secret_key, link.id),
    )


def _page_message(message: Message, names: dict[uuid.UUID, str], reader: uuid.UUID) -> PageMessage:
    author_id = message.author_staff_id or message.author_contact_id
    assert author_id is not None
    long = len(message.body) > CUT_AT
    cut = message.body.rfind(" ", 0, CUT_AT) if long else -1
    cut = cut if cut > CUT_AT // 2 else CUT_AT
    return PageMessage(
        id=message.id,
        author=names[author_id],
        from_reader=message.author_contact_id == reader,
        from_firm=message.author_staff_id is not None,
        channel=message.channel,
        created_at=message.created_at,
        shown=message.body[:cut] if long else message.body,
        more=message.body[cut:] if long else None,
    )

"""The no-login reply page behind a reply link (DESIGN §2 rules 8–9).

Opening a link changes nothing but its "opened" time, and not even that for link
previewers and mail scanners; a reply is saved once however often it is submitted.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import JSON, bindparam, cast, func, select, true, update

from parley.db.conversations import (
    ClientMessage,
    add_client_message,
    takes_part,
)
from parley.db.models import Contact, Conversation, Firm, Message, ReplyLink, StaffUser
from parley.db.reply_links import newest_link_at
from parley.db.statements import CoreStatements, Statements
from parley.domain.errors import NotFound, ParleyError
from parley.domain.messages import Channel, clean_body
from parley.domain.reply_tokens import form_token, hash_token, same_token
from parley.services.batching import Batches
from parley.services.context import ServiceContext
from parley.services.texting import queue_fresh_link

PAGE_MESSAGES = 10
CUT_AT = 480  # characters of a long body shown before "Show more"
FRESH_LINK_INTERVAL = timedelta(minutes=15)


class LinkExpired(ParleyError):
    code = "link_expired"


class FormForged(ParleyError):
    code = "forbidden"


class PageMessage(NamedTuple):
    """A tuple rather than a frozen dataclass: made ten times a page, in a third of the
    time (a frozen dataclass sets each field through object.__setattr__)."""

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
    # One read for the link and its page, shared with the pages asked for at the same
    # time, and on a first visit one write, shared likewise. The page does not wait for
    # that write: it is the firm's record of the visit, not the client's, and its commit
    # waits for the disk (bench/README.md: under load, most of a page's time in the app).
    rows = await _page_reads(ctx).submit(hash_token(token))
    if not rows:
        raise _does_not_work()
    link = _unexpired(_OpenLink._make(rows[0][:_LINK_COLUMNS]), now)
    if by_person and link.opened_at is None:
        _link_openings(ctx).submit_without_waiting(_Opening(link.id, now))
    # A conversation always has the message the link was sent with; the outer join
    # would give one row of NULLs without it.
    latest = [row[_LINK_COLUMNS:] for row in rows if row[_LINK_COLUMNS] is not None]
    return _page_of(ctx, link, latest)


def _page_reads(ctx: ServiceContext) -> Batches[str, Sequence[Sequence[Any]]]:
    if ctx.page_reads is None:
        ctx.page_reads = Batches(partial(_read_pages, ctx), key=lambda token_hash: token_hash)
    return ctx.page_reads


async def _read_pages(
    ctx: ServiceContext, token_hashes: list[str]
) -> Sequence[Sequence[Sequence[Any]]]:
    """Each token's rows of _OPEN_PAGE (none when its link does not work).

    Several pages in one statement on PostgreSQL: under load that halved the database's
    CPU a page, which shares the two cores with the server (bench/README.md). A lone
    page, and SQLite (in-process, with no round trips to save and no LATERAL), read
    each page on its own.
    """
    async with ctx.db.statements() as statements:
        if len(token_hashes) == 1 or ctx.db.is_sqlite:
            return [await statements.rows(_OPEN_PAGE, {"token_hash": h}) for h in token_hashes]
        rows = await statements.rows(_OPEN_PAGES, {"token_hashes": json.dumps(token_hashes)})
    pages: list[list[Sequence[Any]]] = [[] for _ in token_hashes]
    for place, *row in rows:
        pages[place - 1].append(row)
    return pages


class _Opening(NamedTuple):
    link_id: uuid.UUID
    opened: datetime


async def finish_recording_openings(ctx: ServiceContext) -> None:
    """Write the first visits the pages did not wait for: before the service stops."""
    if ctx.link_openings is not None:
        await ctx.link_openings.finish()


def _link_openings(ctx: ServiceContext) -> Batches[_Opening, None]:
    if ctx.link_openings is None:
        ctx.link_openings = Batches(partial(_record_openings, ctx), key=lambda o: o.link_id)
    return ctx.link_openings


async def _record_openings(ctx: ServiceContext, batch: list[_Opening]) -> list[None]:
    await ctx.db.run_for_each(_MARK_OPENED, _MARK_OPENED_TOGETHER, batch)
    return [None] * len(batch)


async def reply_through_link(
    ctx: ServiceContext, token: str, *, body: str, form: str, idempotency_key: str
) -> ReplyPage:
    """Save the contact's reply (channel quick_link), once per idempotency key."""
    now = ctx.clock()
    async with ctx.db.core_transaction() as connection:
        statements = CoreStatements(connection)
        link = await _usable_link(statements, token, now, for_update=True)
        if not same_token(form, form_token(ctx.settings.secret_key, link.id)):
            raise FormForged("This form did not come from the reply page; open the link again.")
        text = clean_body(body)
        already = await connection.scalar(_REPLY_WITH_KEY, {"key": idempotency_key})
        if already is None:
            reply = ClientMessage(
                firm_id=link.firm_id,
                conversation_id=link.conversation_id,
                contact_id=link.contact_id,
                body=text,
                channel=Channel.QUICK_LINK,
                in_reply_to_id=link.message_id,
                idempotency_key=idempotency_key,
                created_at=now,
            )
            await add_client_message(statements, reply)
            await statements.run(_MARK_OPENED, {"link_id": link.id, "opened": now})
        return await _page(statements, ctx, link)


@dataclass(frozen=True)
class FreshLink:
    sent: bool
    explanation: str


async def text_fresh_link(ctx: ServiceContext, token: str) -> FreshLink:
    """For an expired link: text a new one to the same contact, at most every 15 minutes."""
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        link = await _working_link(CoreStatements(await session.connection()), token)
        newest = await newest_link_at(session, link.conversation_id, link.contact_id)
        if newest is not None and now - newest < FRESH_LINK_INTERVAL:
            return FreshLink(False, "A new link was sent a few minutes ago; check your texts.")
        queued = await queue_fresh_link(session, ctx.settings, link, now)
    if not queued:
        return FreshLink(False, "We cannot text this number; please contact the firm.")
    ctx.dispatch_wakeup.set()
    return FreshLink(True, "A new link is on its way by text.")


class _OpenLink(NamedTuple):
    """A link that works, with what the page's heading says."""

    id: uuid.UUID
    firm_id: uuid.UUID
    conversation_id: uuid.UUID
    contact_id: uuid.UUID
    message_id: uuid.UUID
    expires_at: datetime
    opened_at: datetime | None
    firm_name: str
    subject: str
    reader_name: str


# Built once: the reply page is the busiest page, and building a statement costs
# more than running it. One round trip for the link, whether its contact still takes
# part, and the heading; one for the latest messages and their authors.
_WORKING_LINKS = (
    select(
        ReplyLink.id,
        ReplyLink.firm_id,
        ReplyLink.conversation_id,
        ReplyLink.contact_id,
        ReplyLink.message_id,
        ReplyLink.expires_at,
        ReplyLink.opened_at,
        Firm.name,
        Conversation.subject,
        Contact.name,
    )
    .join(Firm, Firm.id == ReplyLink.firm_id)
    .join(Conversation, Conversation.id == ReplyLink.conversation_id)
    .join(Contact, Contact.id == ReplyLink.contact_id)
    .where(takes_part(ReplyLink.conversation_id, ReplyLink.contact_id))
)
_OPEN_LINK = _WORKING_LINKS.where(ReplyLink.token_hash == bindparam("token_hash"))
_OPEN_LINK_FOR_UPDATE = _OPEN_LINK.with_for_update(of=ReplyLink)
_LINK_COLUMNS = len(_OpenLink._fields)
_REPLY_WITH_KEY = select(Message.id).where(Message.idempotency_key == bindparam("key"))
_MARK_OPENED = (
    update(ReplyLink)
    .where(ReplyLink.id == bindparam("link_id"), ReplyLink.opened_at.is_(None))
    .values(opened_at=bindparam("opened"))
)
# As _MARK_OPENED, for a batch given as one JSON array of [link id, time opened]. The
# links are locked in id order, so that two batches (of two servers) never deadlock.
_MARK_OPENED_TOGETHER = """
WITH opening AS (
    SELECT (pair->>0)::uuid AS link_id, (pair->>1)::timestamptz AS opened_at
    FROM json_array_elements($1::json) AS pair
), locked AS (
    SELECT id FROM reply_links
    WHERE id IN (SELECT link_id FROM opening) AND opened_at IS NULL
    ORDER BY id FOR UPDATE
)
UPDATE reply_links AS l SET opened_at = opening.opened_at
FROM opening JOIN locked ON locked.id = opening.link_id
WHERE l.id = opening.link_id
"""
_NEWEST_MESSAGES = (
    select(
        Message.id,
        Message.author_staff_id,
        Message.author_contact_id,
        Message.channel,
        Message.created_at,
        Message.body,
        func.coalesce(StaffUser.name, Contact.name),
    )
    .outerjoin(StaffUser, StaffUser.id == Message.author_staff_id)
    .outerjoin(Contact, Contact.id == Message.author_contact_id)
    .order_by(Message.created_at.desc(), Message.id.desc())
    .limit(PAGE_MESSAGES + 1)
)
_LATEST_MESSAGES = _NEWEST_MESSAGES.where(Message.conversation_id == bindparam("conversation_id"))
# The reply page's GET in one round trip: the link's row beside each of the latest
# messages of its conversation (no row when the link does not work). The messages are
# found by the token's conversation directly, so that every database reads them from
# the (conversation, time) index and stops at the limit.
_LINK = _OPEN_LINK.subquery("link")
_LATEST_OF_TOKEN = _NEWEST_MESSAGES.where(
    Message.conversation_id
    == select(ReplyLink.conversation_id)
    .where(ReplyLink.token_hash == bindparam("token_hash"))
    .scalar_subquery()
).subquery("latest")
_OPEN_PAGE = (
    select(_LINK, _LATEST_OF_TOKEN)
    .select_from(_LINK.outerjoin(_LATEST_OF_TOKEN, true()))
    .order_by(_LATEST_OF_TOKEN.c.created_at.desc(), _LATEST_OF_TOKEN.c.id.desc())
)
# _OPEN_PAGE for several tokens at once (PostgreSQL), given as one JSON array as the
# batched writes are (an array would be planned again on every call:
# services/delivery_updates.py): each row starts with its token's place in the array,
# from 1; a token whose link does not work has no row.
_ASKED = (
    func.json_array_elements_text(cast(bindparam("token_hashes"), JSON))
    .table_valued("token_hash", with_ordinality="place")
    .render_derived()
    .alias("asked")
)
_LINK_OF_ASKED = _WORKING_LINKS.where(ReplyLink.token_hash == _ASKED.c.token_hash).lateral("link")
_LATEST_OF_LINK = _NEWEST_MESSAGES.where(
    Message.conversation_id == _LINK_OF_ASKED.c.conversation_id
).lateral("latest")
_OPEN_PAGES = (
    select(_ASKED.c.place, _LINK_OF_ASKED, _LATEST_OF_LINK)
    .select_from(_ASKED.join(_LINK_OF_ASKED, true()).outerjoin(_LATEST_OF_LINK, true()))
    .order_by(_ASKED.c.place, _LATEST_OF_LINK.c.created_at.desc(), _LATEST_OF_LINK.c.id.desc())
)


async def _working_link(
    statements: Statements, token: str, *, for_update: bool = False
) -> _OpenLink:
    """The link, expired or not, while its contact still takes part (else NotFound)."""
    query = _OPEN_LINK_FOR_UPDATE if for_update else _OPEN_LINK
    row = await statements.row(query, {"token_hash": hash_token(token)})
    if row is None:
        raise _does_not_work()
    return _OpenLink._make(row)


def _does_not_work() -> NotFound:
    # A contact who left the conversation loses access at once; say no more than "not
    # found" so a link reveals nothing once it stops working.
    return NotFound("This link does not work.")


def _unexpired(link: _OpenLink, now: datetime) -> _OpenLink:
    if now >= link.expires_at:
        raise LinkExpired("This link has expired.")
    return link


async def _usable_link(
    statements: Statements, token: str, now: datetime, *, for_update: bool = False
) -> _OpenLink:
    return _unexpired(await _working_link(statements, token, for_update=for_update), now)


async def _page(statements: Statements, ctx: ServiceContext, link: _OpenLink) -> ReplyPage:
    latest = await statements.rows(_LATEST_MESSAGES, {"conversation_id": link.conversation_id})
    return _page_of(ctx, link, latest)


def _page_of(ctx: ServiceContext, link: _OpenLink, latest: Sequence[Sequence[Any]]) -> ReplyPage:
    """The page, from the latest messages (newest first, one more than are shown)."""
    shown = list(reversed(latest[:PAGE_MESSAGES]))
    return ReplyPage(
        firm_name=link.firm_name,
        subject=link.subject,
        reader_name=link.reader_name,
        messages=[_page_message(_Shown._make(row), link.contact_id) for row in shown],
        earlier=len(latest) - len(shown),
        form_token=form_token(ctx.settings.secret_key, link.id),
    )


class _Shown(NamedTuple):
    id: uuid.UUID
    author_staff_id: uuid.UUID | None
    author_contact_id: uuid.UUID | None
    channel: str
    created_at: datetime
    body: str
    author: str


def _page_message(message: _Shown, reader: uuid.UUID) -> PageMessage:
    long = len(message.body) > CUT_AT
    cut = message.body.rfind(" ", 0, CUT_AT) if long else -1
    cut = cut if cut > CUT_AT // 2 else CUT_AT
    return PageMessage(
        id=message.id,
        author=message.author,
        from_reader=message.author_contact_id == reader,
        from_firm=message.author_staff_id is not None,
        channel=message.channel,
        created_at=message.created_at,
        shown=message.body[:cut] if long else message.body,
        more=message.body[cut:] if long else None,
    )

"""Queries about conversations and who takes part in them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Exists,
    Select,
    SQLColumnExpression,
    Table,
    Update,
    bindparam,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import Contact, Conversation, ConversationParticipant, Matter, Message
from parley.db.statements import Statements
from parley.db.types import new_id


async def current_participants(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Contact]]:
    """Contacts still taking part, per conversation, by name."""
    rows = await session.execute(
        select(ConversationParticipant.conversation_id, Contact)
        .join(Contact, Contact.id == ConversationParticipant.contact_id)
        .where(
            ConversationParticipant.conversation_id.in_(conversation_ids),
            ConversationParticipant.removed_at.is_(None),
        )
        .order_by(Contact.name, Contact.id)
    )
    found: dict[uuid.UUID, list[Contact]] = defaultdict(list)
    for conversation_id, contact in rows:
        found[conversation_id].append(contact)
    return found


async def matters_by_id(
    session: AsyncSession, matter_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Matter]:
    rows = await session.scalars(select(Matter).where(Matter.id.in_(matter_ids)))
    return {matter.id: matter for matter in rows}


def takes_part(
    conversation_id: uuid.UUID | SQLColumnExpression[uuid.UUID],
    contact_id: uuid.UUID | SQLColumnExpression[uuid.UUID],
) -> Exists:
    """Whether the contact is in the conversation and has not been removed from it."""
    return exists().where(
        ConversationParticipant.conversation_id == conversation_id,
        ConversationParticipant.contact_id == contact_id,
        ConversationParticipant.removed_at.is_(None),
    )


async def is_participant(
    session: AsyncSession, conversation_id: uuid.UUID, contact_id: uuid.UUID
) -> bool:
    return bool(await session.scalar(select(takes_part(conversation_id, contact_id))))


async def conversation_of_firm(
    session: AsyncSession, conversation_id: uuid.UUID
) -> Conversation | None:
    return await session.get(Conversation, conversation_id)


@dataclass(frozen=True)
class ClientMessage:
    """A message a client wrote: a text filed into a conversation, or a reply-page answer."""

    firm_id: uuid.UUID
    conversation_id: uuid.UUID
    contact_id: uuid.UUID
    body: str
    channel: str
    in_reply_to_id: uuid.UUID | None
    created_at: datetime
    media: list[dict[str, str]] | None = None
    idempotency_key: str | None = None
    id: uuid.UUID = field(default_factory=new_id)


async def add_client_message(statements: Statements, message: ClientMessage) -> None:
    """Adds `message` to its conversation, which rises in lists.

    The conversation's row is updated, and so locked, before the message is inserted:
    the insert takes a key-share lock on it, and two replies that each held one while
    waiting to lock it would deadlock.
    """
    # Only its own parameters: SQLAlchemy would take any other that names a column of
    # conversations (id, created_at, …) for a column to set as well.
    touch = {"conversation_id": message.conversation_id, "at": message.created_at}
    await statements.run(_TOUCH_CONVERSATION, touch)
    await statements.run(_INSERT_MESSAGE, client_message_params(message))


def client_message_params(message: ClientMessage) -> dict[str, Any]:
    """The message's columns, and `at`, its conversation's new last activity: what
    `client_message_after` takes (the insert of `add_client_message` ignores `at`)."""
    return {
        "at": message.created_at,
        "id": message.id,
        "firm_id": message.firm_id,
        "conversation_id": message.conversation_id,
        "author_staff_id": None,
        "author_contact_id": message.contact_id,
        "send_as_sms": False,
        "body": message.body,
        "channel": message.channel,
        "in_reply_to_id": message.in_reply_to_id,
        "media": message.media,
        "idempotency_key": message.idempotency_key,
        "created_at": message.created_at,
    }


def client_message_after(claim: Update) -> Select[Any]:
    """One statement: `claim` runs, and only if it changed a row is the client message
    (`client_message_params`) added as `add_client_message` adds it; yields what `claim`
    returns. PostgreSQL only: SQLite has no data-modifying WITH.

    The claimed row is locked first, then the conversation, then the message inserted:
    the same order as `add_client_message` after a caller's own lock.
    """
    claimed = claim.cte("claimed")
    touched = (
        _TOUCH_CONVERSATION.where(exists(select(claimed.c[0])))
        .returning(_CONVERSATIONS.c.id)
        .cte("touched")
    )
    columns = list(_MESSAGES.c)
    inserted = insert(_MESSAGES).from_select(
        [column.name for column in columns],
        select(*(bindparam(column.name, type_=column.type) for column in columns)).select_from(
            touched
        ),
    )
    return select(claimed).add_cte(touched, inserted.cte("inserted"))


# Built once: every reply from a client runs them.
_CONVERSATIONS = cast(Table, Conversation.__table__)
_MESSAGES = cast(Table, Message.__table__)
_TOUCH_CONVERSATION = (
    update(_CONVERSATIONS)
    .where(_CONVERSATIONS.c.id == bindparam("conversation_id"))
    .values(last_activity_at=bindparam("at"))
)
_INSERT_MESSAGE = insert(_MESSAGES)

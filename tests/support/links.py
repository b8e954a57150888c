"""The reply links a message's recipients received, as they would read them in a text."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from parley.db.models import ReplyLink
from parley.domain.reply_tokens import derive_token
from parley.services.context import ServiceContext


async def reply_tokens(ctx: ServiceContext, message_id: str) -> dict[str, str]:
    """Each recipient's token for the message, by contact id."""
    async with ctx.db.sessions() as session:
        links = await session.scalars(
            select(ReplyLink).where(ReplyLink.message_id == uuid.UUID(message_id))
        )
        return {
            str(link.contact_id): derive_token(ctx.settings.secret_key, link.id) for link in links
        }

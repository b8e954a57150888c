"""Minting reply links: one secret URL per recipient per text (DESIGN §2 rule 9)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import ReplyLink
from parley.domain.reply_tokens import derive_token, hash_token
from parley.settings import Settings


def reply_link_url(settings: Settings, link_id: uuid.UUID) -> str:
    return f"{settings.public_url.rstrip('/')}/r/{derive_token(settings.secret_key, link_id)}"


def mint_reply_link(
    session: AsyncSession,
    settings: Settings,
    *,
    firm_id: uuid.UUID,
    conversation_id: uuid.UUID,
    contact_id: uuid.UUID,
    message_id: uuid.UUID,
    delivery_id: uuid.UUID | None,
    now: datetime,
) -> tuple[ReplyLink, str]:
    # The id is the random input of the token, so it comes from uuid4, not the
    # time-ordered ids other rows use.
    link_id = uuid.uuid4()
    token = derive_token(settings.secret_key, link_id)
    link = ReplyLink(
        id=link_id,
        firm_id=firm_id,
        conversation_id=conversation_id,
        contact_id=contact_id,
        message_id=message_id,
        delivery_id=delivery_id,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=settings.reply_link_days),
    )
    session.add(link)
    return link, reply_link_url(settings, link_id)

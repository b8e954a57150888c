"""Queries about messages and the names of who wrote them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import Contact, Message, StaffUser


async def author_names(session: AsyncSession, messages: list[Message]) -> dict[uuid.UUID, str]:
    """Display names of the staff and contacts who wrote these messages, by their id."""
    staff_ids = {m.author_staff_id for m in messages if m.author_staff_id}
    contact_ids = {m.author_contact_id for m in messages if m.author_contact_id}
    names: dict[uuid.UUID, str] = {}
    if staff_ids:
        rows = await session.execute(
            select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(staff_ids))
        )
        names.update({row_id: name for row_id, name in rows})
    if contact_ids:
        rows = await session.execute(
            select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
        )
        names.update({row_id: name for row_id, name in rows})
    return names

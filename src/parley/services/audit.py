"""The audit log: which staff member did what to a conversation, and when.

Entries are added by the use cases themselves, in the transaction of the action, so
an entry exists exactly when the action took effect.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import AuditEntry, Conversation, StaffUser
from parley.db.tenancy import get_for_firm
from parley.services.context import FirmScope, ServiceContext
from parley.services.pagination import DEFAULT_PAGE_SIZE, Cursor, Page


class AuditAction(StrEnum):
    MESSAGE_SENT = "message_sent"
    SMS_RESENT = "sms_resent"
    INBOX_TEXT_FILED = "inbox_text_filed"


@dataclass(frozen=True)
class StaffRef:
    id: uuid.UUID
    name: str


@dataclass(frozen=True)
class AuditEntryView:
    action: str
    at: datetime
    staff: StaffRef
    message_id: uuid.UUID | None
    detail: dict[str, Any]


def record(
    session: AsyncSession,
    scope: FirmScope,
    action: AuditAction,
    *,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID | None,
    detail: dict[str, Any],
    at: datetime,
) -> None:
    """Add an entry to the caller's transaction; it commits or rolls back with the action."""
    session.add(
        AuditEntry(
            firm_id=scope.firm_id,
            conversation_id=conversation_id,
            staff_id=scope.staff_id,
            action=action,
            message_id=message_id,
            detail=detail,
            at=at,
        )
    )


async def audit_trail(
    ctx: ServiceContext,
    scope: FirmScope,
    conversation_id: uuid.UUID,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None,
) -> Page[AuditEntryView]:
    """A conversation's audit entries, oldest first."""
    query = (
        select(AuditEntry, StaffUser.name)
        .join(StaffUser, StaffUser.id == AuditEntry.staff_id)
        .where(AuditEntry.conversation_id == conversation_id, AuditEntry.firm_id == scope.firm_id)
    )
    if cursor:
        after = Cursor.decode(cursor)
        query = query.where(tuple_(AuditEntry.at, AuditEntry.id) > (after.at, after.id))
    query = query.order_by(AuditEntry.at, AuditEntry.id).limit(limit + 1)
    async with ctx.db.sessions() as session:
        await get_for_firm(
            session, Conversation, conversation_id, scope.firm_id, label="conversation"
        )
        rows = list(await session.execute(query))
    items = [view_of(entry, staff_name) for entry, staff_name in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return Page(items, Cursor(last.at, last.id).encode() if last else None)


def view_of(entry: AuditEntry, staff_name: str) -> AuditEntryView:
    return AuditEntryView(
        action=entry.action,
        at=entry.at,
        staff=StaffRef(id=entry.staff_id, name=staff_name),
        message_id=entry.message_id,
        detail=entry.detail,
    )

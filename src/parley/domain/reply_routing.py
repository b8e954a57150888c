"""Where a plain-text reply goes: the one-conversation rule (DESIGN §2 rules 11–12).

A client can answer by plain text only while exactly one conversation of the firm has
texted them within the window; otherwise the text waits in the firm's inbox and the
client is told, at most once a day, to use the link instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

NOTICE_INTERVAL = timedelta(hours=24)


class HoldReason(StrEnum):
    UNKNOWN_SENDER = "unknown_sender"
    NO_CONVERSATION = "no_conversation"
    MULTIPLE_CONVERSATIONS = "multiple_conversations"


@dataclass(frozen=True)
class TextToNumber:
    """One text the firm sent to the sender's number."""

    conversation_id: uuid.UUID
    contact_id: uuid.UUID
    message_id: uuid.UUID
    texted_at: datetime


@dataclass(frozen=True)
class InboundFacts:
    received_at: datetime
    sender_contact_ids: frozenset[uuid.UUID]  # contacts of the firm with this mobile
    texts_to_number: tuple[TextToNumber, ...]
    window: timedelta
    sender_opted_out: bool
    last_notice_at: datetime | None  # the last "use the link" notice to this number


@dataclass(frozen=True)
class FileInConversation:
    conversation_id: uuid.UUID
    contact_id: uuid.UUID
    in_reply_to_id: uuid.UUID


@dataclass(frozen=True)
class HoldInInbox:
    reason: HoldReason
    contact_id: uuid.UUID | None
    send_notice: bool


RouteDecision = FileInConversation | HoldInInbox


def active_texts(facts: InboundFacts) -> list[TextToNumber]:
    """Texts within the window; the edge itself is inside it."""
    return [t for t in facts.texts_to_number if facts.received_at - t.texted_at <= facts.window]


def decide_reply_route(facts: InboundFacts) -> RouteDecision:
    active = active_texts(facts)
    conversations = {t.conversation_id for t in active}
    if len(conversations) == 1:
        # Several contacts may share one phone: the one the latest text went to wrote it.
        latest = max(active, key=lambda t: t.texted_at)
        return FileInConversation(latest.conversation_id, latest.contact_id, latest.message_id)
    if not conversations and not facts.sender_contact_ids:
        reason = HoldReason.UNKNOWN_SENDER
    elif not conversations:
        reason = HoldReason.NO_CONVERSATION
    else:
        reason = HoldReason.MULTIPLE_CONVERSATIONS
    sender = next(iter(facts.sender_contact_ids)) if len(facts.sender_contact_ids) == 1 else None
    return HoldInInbox(reason, sender, send_notice=_may_notify(facts))


def _may_notify(facts: InboundFacts) -> bool:
    if facts.sender_opted_out:
        return False
    last = facts.last_notice_at
    return last is None or facts.received_at - last >= NOTICE_INTERVAL

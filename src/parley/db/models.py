"""The tables. Every row a firm owns carries `firm_id`, so scoping is one column away."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from parley.db.types import UTCDateTime, new_id

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012 (SQLAlchemy's own hook)


class Firm(Base):
    __tablename__ = "firms"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    email_from: Mapped[str | None] = mapped_column(String(320))
    # Texts are cut to fit this many segments (DESIGN §2 rule 3); never above 10.
    sms_segment_limit: Mapped[int] = mapped_column(Integer, default=4)
    # Email notices leave the body out unless the firm opts in (confidentiality).
    email_notice_includes_body: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class FirmSmsNumber(Base):
    """A sender number of a firm; inbound texts find their firm through it."""

    __tablename__ = "firm_sms_numbers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    # Segments per second this number may send (DESIGN §2 rule 7a); None: the default.
    send_rate_per_second: Mapped[float | None]


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("email", name="uq_staff_users_email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2
    created_at: Mapped[datetime]


class StaffSession(Base):
    """A signed-in browser: the cookie holds a random token, this table its hash."""

    __tablename__ = "staff_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ConversationRead(Base):
    """When a staff member last looked at a conversation (for the unread marker)."""

    __tablename__ = "conversation_reads"
    __table_args__ = (UniqueConstraint("staff_id", "conversation_id", name="uq_read"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    read_at: Mapped[datetime]


class ApiToken(Base):
    """A staff member's API token, kept only as its SHA-256 (tokens are random, 256 bits)."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_firm_mobile", "firm_id", "mobile_phone"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    mobile_phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    created_at: Mapped[datetime]


class Matter(Base):
    __tablename__ = "matters"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]


class Conversation(Base):
    """An external matter conversation."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_firm_activity", "firm_id", "last_activity_at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"))
    matter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("matters.id"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]


class ConversationParticipant(Base):
    """A contact taking part in a conversation; `removed_at` ends their access."""

    __tablename__ = "conversation_participants"
    __table_args__ = (UniqueConstraint("conversation_id", "contact_id", name="uq_participant"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), index=True)
    added_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(
            "(author_staff_id IS NULL) <> (author_contact_id IS NULL)", name="one_author"
        ),
        CheckConstraint("channel IN ('portal', 'sms', 'quick_link', 'app')", name="channel"),
        Index("ix_messages_conversation_created", "conversation_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"), index=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    author_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    author_contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"))
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    send_as_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    in_reply_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"))
    # Pictures of an MMS reply: [{"url", "content_type"}], kept so nothing is lost.
    media: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # Set by the reply page's form, so a double submit posts once.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


# Spelled out, not bound as parameters, so that the planner can match the partial index.
AWAITING_NEWS = "status IN ('sending', 'sent')"


class SmsDelivery(Base):
    """One text of one message to one recipient, and the queue entry that sends it.

    The dispatcher finds work through `next_attempt_at` (due when set and past) and
    holds it through `claimed_by`/`claimed_until`, a lease that a crashed worker's
    successor takes over once it runs out.
    """

    __tablename__ = "sms_deliveries"
    __table_args__ = (
        Index("ix_sms_deliveries_due", "next_attempt_at"),
        Index("ix_sms_deliveries_message", "message_id"),
        Index("ix_sms_deliveries_to_texted", "firm_id", "to_number", "created_at"),
        # Reconciliation looks only at texts still waiting for news: a small slice.
        Index(
            "ix_sms_deliveries_awaiting_news",
            "updated_at",
            postgresql_where=text(AWAITING_NEWS),
            sqlite_where=text(AWAITING_NEWS),
        ),
        CheckConstraint("status IN ('sending', 'sent', 'delivered', 'failed')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"))
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"))
    to_number: Mapped[str] = mapped_column(String(20))
    from_number: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)  # exactly what is texted, link included
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    error_code: Mapped[str | None] = mapped_column(String(20))
    error_message: Mapped[str | None] = mapped_column(String(300))
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DeliveryEvent(Base):
    """Every provider event about a delivery, kept as received, for audit."""

    __tablename__ = "sms_delivery_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sms_deliveries.id"), index=True)
    provider_status: Mapped[str] = mapped_column(String(20))
    error_code: Mapped[str | None] = mapped_column(String(20))
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    received_at: Mapped[datetime]


class ReplyLink(Base):
    """A secret link that opens one conversation as one contact; stored only as a hash."""

    __tablename__ = "reply_links"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"))
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sms_deliveries.id"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]


class SmsOptOut(Base):
    """A number that texted STOP to a firm: nothing is texted to it until it texts START."""

    __tablename__ = "sms_opt_outs"
    __table_args__ = (UniqueConstraint("firm_id", "phone_number", name="uq_opt_out"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"))
    phone_number: Mapped[str] = mapped_column(String(20))
    opted_out_at: Mapped[datetime]


class InboundText(Base):
    """A text received, stored as it arrived before anything else happens to it.

    `outcome` says what became of it: filed into a conversation, held in the firm's
    inbox (with `hold_reason`), taken as a keyword, or unroutable (no firm has the
    number it was sent to).
    """

    __tablename__ = "inbound_texts"
    __table_args__ = (
        Index("ix_inbound_texts_inbox", "firm_id", "outcome", "received_at"),
        Index("ix_inbound_texts_sender", "firm_id", "from_number", "notice_sent_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    firm_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("firms.id"))
    from_number: Mapped[str] = mapped_column(String(40))
    to_number: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    media: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    params: Mapped[dict[str, str]] = mapped_column(JSON)
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    keyword: Mapped[str | None] = mapped_column(String(10))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contacts.id"))
    # The reply we answered with (TwiML), so a retried webhook gets the same answer.
    reply_body: Mapped[str | None] = mapped_column(Text)
    notice_sent_at: Mapped[datetime | None]
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"))
    filed_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_users.id"))
    filed_at: Mapped[datetime | None]


class ConsentEvent(Base):
    """The consent ledger: every opt-out and opt-in, with the text that caused it."""

    __tablename__ = "sms_consent_ledger"
    __table_args__ = (Index("ix_consent_firm_number", "firm_id", "phone_number", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"))
    phone_number: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(10))  # "opt_out" or "opt_in"
    text: Mapped[str] = mapped_column(Text)
    inbound_text_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inbound_texts.id"))
    at: Mapped[datetime]


class EmailNotice(Base):
    """A pending or sent email telling a contact of new messages in a conversation.

    One notice gathers every staff message of its conversation written while it waits
    (`message_ids`); the outbox is worked like the SMS queue, by lease.
    """

    __tablename__ = "email_notices"
    __table_args__ = (
        Index("ix_email_notices_due", "next_attempt_at"),
        Index("ix_email_notices_waiting", "conversation_id", "contact_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"))
    reply_link_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reply_links.id"))
    to_email: Mapped[str] = mapped_column(String(320))
    message_ids: Mapped[list[str]] = mapped_column(JSON)
    # waiting -> sent | captured (no SMTP configured) | skipped (already read) | failed
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    # Set just before the SMTP conversation starts and cleared once its outcome is
    # recorded: a notice found with it set was in flight when its worker died.
    sending_started_at: Mapped[datetime | None]
    subject: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class AuditEntry(Base):
    """A staff action on a conversation: who did what, and when.

    Written in the transaction of the action itself, so an action that failed leaves
    no entry and one that succeeded cannot lack one.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_conversation", "conversation_id", "at", "id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversations.id"))
    staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_users.id"))
    # "message_sent", "sms_resent" or "inbox_text_filed"
    action: Mapped[str] = mapped_column(String(30))
    message_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("messages.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime]


class IdempotencyKey(Base):
    """A staff request that texts clients, by the key its sender gave it, with its answer.

    Claimed in the transaction of the request itself, before it acts: the same key sent
    again while the first is still running waits for it, and then gets its answer.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_firm_age", "firm_id", "created_at"),)

    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # domain.idempotency.request_fingerprint of the request that claimed the key
    request: Mapped[str] = mapped_column(String(64))
    # The answer given, as JSON; set before the claiming transaction commits.
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

"""The tables. Every row a firm owns carries `firm_id`, so scoping is one column away."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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


class StaffUser(Base):
    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("email", name="uq_staff_users_email"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]


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
    created_at: Mapped[datetime]

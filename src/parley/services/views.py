"""What the API and the pages show of each thing: plain, serialisable read models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from parley.db.models import Contact, Matter


class ContactView(BaseModel):
    id: uuid.UUID
    name: str
    email: str | None
    mobile_phone: str | None
    sms_opted_out: bool
    created_at: datetime

    @classmethod
    def of(cls, contact: Contact, *, opted_out: bool) -> ContactView:
        return cls(
            id=contact.id,
            name=contact.name,
            email=contact.email,
            mobile_phone=contact.mobile_phone,
            sms_opted_out=opted_out,
            created_at=contact.created_at,
        )


class MatterView(BaseModel):
    id: uuid.UUID
    title: str
    reference: str | None
    created_at: datetime

    @classmethod
    def of(cls, matter: Matter) -> MatterView:
        return cls(
            id=matter.id,
            title=matter.title,
            reference=matter.reference,
            created_at=matter.created_at,
        )


class ParticipantView(BaseModel):
    contact_id: uuid.UUID
    name: str
    mobile_phone: str | None
    email: str | None


class ConversationView(BaseModel):
    id: uuid.UUID
    matter: MatterView
    subject: str
    participants: list[ParticipantView]
    created_at: datetime
    last_activity_at: datetime


class AuthorView(BaseModel):
    type: Literal["staff", "contact"]
    id: uuid.UUID
    name: str


class SmsView(BaseModel):
    """One text of a message to one recipient, as staff see it."""

    delivery_id: uuid.UUID
    contact_id: uuid.UUID
    to: str
    status: str
    error_code: str | None
    error_message: str | None
    updated_at: datetime
    opened_at: datetime | None


class NotTextedView(BaseModel):
    contact_id: uuid.UUID
    name: str
    reason: str


class MessageView(BaseModel):
    id: uuid.UUID
    conversation_id: uuid.UUID
    author: AuthorView
    body: str
    channel: str
    created_at: datetime
    in_reply_to_id: uuid.UUID | None
    send_as_sms: bool
    sms: list[SmsView]


class PostedMessageView(MessageView):
    """A message just written, with the participants who were not texted and why."""

    not_texted: list[NotTextedView]

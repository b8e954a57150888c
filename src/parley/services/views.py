"""What the API and the pages show of each thing: plain, serialisable read models."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from parley.db.models import Contact, InboundText, Matter, SmsDelivery


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

    @classmethod
    def of(cls, delivery: SmsDelivery, opened_at: datetime | None) -> SmsView:
        return cls(
            delivery_id=delivery.id,
            contact_id=delivery.contact_id,
            to=delivery.to_number,
            status=delivery.status,
            error_code=delivery.error_code,
            error_message=delivery.error_message,
            updated_at=delivery.updated_at,
            opened_at=opened_at,
        )


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
    media: list[MediaView]
    sms: list[SmsView]


class PostedMessageView(MessageView):
    """A message just written, with the participants who were not texted and why."""

    not_texted: list[NotTextedView]


class MediaView(BaseModel):
    url: str
    content_type: str


class ContactRefView(BaseModel):
    id: uuid.UUID
    name: str


class FiledView(BaseModel):
    conversation_id: uuid.UUID
    message_id: uuid.UUID
    filed_at: datetime | None
    filed_by_staff_id: uuid.UUID | None


class InboxItemView(BaseModel):
    """A text held in the firm's inbox, with why, and where it went once filed."""

    id: uuid.UUID
    from_number: str
    contact: ContactRefView | None
    body: str
    media: list[MediaView]
    received_at: datetime
    reason: str
    filed: FiledView | None

    @classmethod
    def of(
        cls, text: InboundText, contact: Contact | None, filed_in: uuid.UUID | None
    ) -> InboxItemView:
        return cls(
            id=text.id,
            from_number=text.from_number,
            contact=ContactRefView(id=contact.id, name=contact.name) if contact else None,
            body=text.body,
            media=[MediaView(**m) for m in text.media],
            received_at=text.received_at,
            reason=text.hold_reason or "",
            filed=(
                FiledView(
                    conversation_id=filed_in,
                    message_id=text.message_id,
                    filed_at=text.filed_at,
                    filed_by_staff_id=text.filed_by_staff_id,
                )
                if filed_in and text.message_id
                else None
            ),
        )

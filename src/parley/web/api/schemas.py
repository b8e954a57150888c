"""Request bodies of the staff API. Unknown fields are refused, never silently dropped."""

from __future__ import annotations

import uuid
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

ItemT = TypeVar("ItemT")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewContact(Strict):
    name: str = Field(max_length=200)
    email: str | None = Field(default=None, max_length=320)
    mobile_phone: str | None = Field(default=None, max_length=40)


class NewMatter(Strict):
    title: str = Field(max_length=300)
    reference: str | None = Field(default=None, max_length=100)


class NewConversation(Strict):
    matter_id: uuid.UUID
    subject: str = Field(max_length=300)
    participant_ids: list[uuid.UUID] = Field(max_length=100)


class NewMessage(Strict):
    # Length is judged after trimming, by the use case, so the message can say so plainly.
    body: str
    send_as_sms: bool = False


class PageOut(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


class FileFromInbox(Strict):
    conversation_id: uuid.UUID
    # Needed only when the sender is not a known contact of the firm.
    contact_id: uuid.UUID | None = None

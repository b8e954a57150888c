"""Request bodies of the staff API. Unknown fields are refused, never silently dropped."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from parley.domain.storable_text import NUL

ItemT = TypeVar("ItemT")


def _storable(value: str) -> str:
    if NUL in value:
        raise PydanticCustomError("nul_character", "Text cannot contain the NUL character (U+0000)")
    return value


# The pattern tells clients the rule; the validator refuses with a plain message.
Text = Annotated[
    str, AfterValidator(_storable), Field(json_schema_extra={"pattern": "^[^\\u0000]*$"})
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewContact(Strict):
    name: Text = Field(max_length=200)
    email: Text | None = Field(default=None, max_length=320)
    mobile_phone: Text | None = Field(default=None, max_length=40)


class NewMatter(Strict):
    title: Text = Field(max_length=300)
    reference: Text | None = Field(default=None, max_length=100)


class NewConversation(Strict):
    matter_id: uuid.UUID
    subject: Text = Field(max_length=300)
    participant_ids: list[uuid.UUID] = Field(max_length=100)


class NewMessage(Strict):
    # Length is judged after trimming, by the use case, so the message can say so plainly.
    body: Text
    send_as_sms: bool = False


class PageOut(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None


class FileFromInbox(Strict):
    conversation_id: uuid.UUID
    # Needed only when the sender is not a known contact of the firm.
    contact_id: uuid.UUID | None = None


class StaffRefOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str


class AuditEntryOut(BaseModel):
    """One staff action on a conversation.

    The use case's view is a plain dataclass; `from_attributes` reads it field by field.
    """

    model_config = ConfigDict(from_attributes=True)

    action: str
    at: datetime
    staff: StaffRefOut
    message_id: uuid.UUID | None
    detail: dict[str, Any]

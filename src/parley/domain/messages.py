"""What a message is allowed to be."""

from __future__ import annotations

from enum import StrEnum

from parley.domain.errors import InvalidInput
from parley.domain.storable_text import storable

MAX_BODY_CHARACTERS = 10_000


class Channel(StrEnum):
    PORTAL = "portal"
    SMS = "sms"
    QUICK_LINK = "quick_link"
    APP = "app"


def clean_body(raw: str) -> str:
    """The body as stored: trimmed, 1 to 10,000 characters, any NUL made storable."""
    body = storable(raw).strip()
    if not body:
        raise InvalidInput("The message is empty; write something to send.", field="body")
    if len(body) > MAX_BODY_CHARACTERS:
        raise InvalidInput(
            f"The message is {len(body):,} characters long; the limit is {MAX_BODY_CHARACTERS:,}.",
            field="body",
        )
    return body

"""Opaque keyset cursors: stable pages even while new rows arrive."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from parley.domain.errors import InvalidInput

ItemT = TypeVar("ItemT")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Cursor:
    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            at, row_id = raw.split("|")
            return cls(datetime.fromisoformat(at), uuid.UUID(row_id))
        except ValueError:
            raise InvalidInput(
                "The cursor is not one this service gave out.", field="cursor"
            ) from None


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    items: list[ItemT]
    next_cursor: str | None

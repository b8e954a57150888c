"""Idempotency keys: a staff request sent again with the same key acts once.

The staff API takes an `Idempotency-Key` header on the requests that text clients
(as the IETF draft "The Idempotency-Key HTTP Header Field" describes it), and the staff
app puts one in each of its forms, so that a retry after a lost answer, or a double
click, never texts a client twice.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

from parley.domain.errors import InvalidInput

KEY_KEPT_FOR = timedelta(hours=24)  # a key sent again later starts a new request
LONGEST_KEY = 255
KEY_HEADER = "Idempotency-Key"


class KeyReused(InvalidInput):
    code = "idempotency_key_reused"


def checked_key(key: str) -> str:
    """The key as given, if it is 1 to 255 visible ASCII characters (a UUID is ideal)."""
    if not key or len(key) > LONGEST_KEY or not all("!" <= c <= "~" for c in key):
        raise InvalidInput(
            f"{KEY_HEADER} must be 1 to {LONGEST_KEY} visible ASCII characters, "
            "without spaces; a new UUID for each request is best.",
            field=KEY_HEADER,
        )
    return key


def request_fingerprint(action: str, target: uuid.UUID, **fields: object) -> str:
    """What identifies a request, so that a key sent with a different one is refused."""
    described = json.dumps([action, str(target), fields], sort_keys=True)
    return hashlib.sha256(described.encode()).hexdigest()


def key_reused() -> KeyReused:
    return KeyReused(
        f"This {KEY_HEADER} was sent with a different request in the last "
        f"{KEY_KEPT_FOR.total_seconds() / 3600:.0f} hours; use a new key for a new request.",
        field=KEY_HEADER,
    )

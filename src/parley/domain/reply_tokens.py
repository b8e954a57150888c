"""Reply-link tokens: derived, never stored.

A token is the HMAC of the link's random id under the service's secret key. The
database keeps only the token's SHA-256, and the dispatcher derives the token again
when it composes the text, so no usable token ever rests in the database, not even in
a queued text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

TOKEN_BYTES = 24  # 192 bits, URL-safe in 32 characters


def derive_token(secret_key: str, link_id: uuid.UUID) -> str:
    digest = hmac.new(secret_key.encode(), b"reply-link:" + link_id.bytes, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:TOKEN_BYTES]).decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def form_token(secret_key: str, link_id: uuid.UUID) -> str:
    """The anti-forgery token of a link's reply form: only our page can know it."""
    digest = hmac.new(secret_key.encode(), b"reply-form:" + link_id.bytes, hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode()


def same_token(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())

"""A staff request that texts clients, sent again with its idempotency key, acts once.

The key is claimed in the request's own transaction before anything is written, and
its answer kept in the same transaction: a request that fails leaves the key free, and
one that succeeded always has its answer to give again (domain/idempotency.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.idempotency_keys import claim_key, keep_answer
from parley.domain.idempotency import checked_key, key_reused, request_fingerprint
from parley.services.context import FirmScope
from parley.services.views import PostedMessageView


@dataclass(frozen=True)
class Posted:
    """A staff request's answer: the message it wrote or texted again."""

    message: PostedMessageView
    again: bool  # the request came again with its key: this time nothing was done


@dataclass(frozen=True)
class KeyedRequest:
    key: str
    fingerprint: str


def keyed(key: str | None, action: str, target: uuid.UUID, **fields: object) -> KeyedRequest | None:
    """The request with its key, checked; None when the sender gave none."""
    if key is None:
        return None
    return KeyedRequest(checked_key(key), request_fingerprint(action, target, **fields))


async def answered_before(
    session: AsyncSession, scope: FirmScope, request: KeyedRequest | None, now: datetime
) -> Posted | None:
    """The first answer when this request came before with its key; else the key is ours."""
    if request is None:
        return None
    earlier = await claim_key(session, scope.firm_id, request.key, request.fingerprint, now)
    if earlier is None:
        return None
    if earlier.request != request.fingerprint:
        raise key_reused()
    return Posted(PostedMessageView.model_validate(earlier.response), again=True)


async def answered(
    session: AsyncSession, scope: FirmScope, request: KeyedRequest | None, answer: PostedMessageView
) -> Posted:
    """The answer, kept under the request's key (if it has one) for when it comes again."""
    if request is not None:
        await keep_answer(session, scope.firm_id, request.key, answer.model_dump(mode="json"))
    return Posted(answer, again=False)

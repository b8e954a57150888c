"""Idempotency keys of staff requests (domain/idempotency.py), claimed and answered."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import IdempotencyKey
from parley.domain.idempotency import KEY_KEPT_FOR


async def claim_key(
    session: AsyncSession, firm_id: uuid.UUID, key: str, request: str, now: datetime
) -> IdempotencyKey | None:
    """Claim `key` for this request (None), or the row of the request that holds it.

    While another transaction holds the key, this waits for it: PostgreSQL's insert
    waits on the key's unique index, SQLite's on the write lock. If that transaction
    rolls back, this one claims the key. The firm's keys older than KEY_KEPT_FOR are
    forgotten first, so the table holds about a day of requests: those another request
    is forgetting at the same time are left to it, so that two never wait on each other.
    """
    stale = (
        select(IdempotencyKey.key)
        .where(IdempotencyKey.firm_id == firm_id, IdempotencyKey.created_at < now - KEY_KEPT_FOR)
        .with_for_update(skip_locked=True)
    )
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.firm_id == firm_id, IdempotencyKey.key.in_(stale)
        )
    )
    dialect_insert = (
        sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    )
    claimed = await session.execute(
        dialect_insert(IdempotencyKey)
        .values(firm_id=firm_id, key=key, request=request, created_at=now)
        .on_conflict_do_nothing(index_elements=["firm_id", "key"])
        .returning(IdempotencyKey.key)
    )
    if claimed.first() is not None:
        return None
    return await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.firm_id == firm_id, IdempotencyKey.key == key)
    )


async def keep_answer(
    session: AsyncSession, firm_id: uuid.UUID, key: str, response: dict[str, Any]
) -> None:
    """The answer to give when the key comes again: in the claiming transaction."""
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.firm_id == firm_id, IdempotencyKey.key == key)
        .values(response=response)
    )

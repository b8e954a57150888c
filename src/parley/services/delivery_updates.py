"""What providers tell us about texts: statuses move forward only, every event is kept."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import NamedTuple, cast

import asyncpg
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.db.models import DeliveryEvent, SmsDelivery
from parley.db.types import new_id
from parley.domain.delivery_status import DeliveryStatus, next_status, statuses_moved_on_by
from parley.services.batching import Batches
from parley.services.context import ServiceContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderEvent:
    """One status report of a provider, already translated to our words."""

    provider_id: str
    provider_status: str
    status: DeliveryStatus | None  # None: a state we do not show (e.g. inbound)
    error_code: str | None
    reason: str | None
    params: dict[str, str]


async def record_provider_event(
    ctx: ServiceContext, event: ProviderEvent, delivery_id: uuid.UUID | None
) -> bool:
    """Apply one provider event; False when it matches no delivery of ours.

    The busiest path of the service (every text brings two or three callbacks). On
    PostgreSQL, events that name their delivery (our StatusCallback URLs do) are written
    with those that arrive at the same time, in one statement and one commit
    (`_status_news`); one that names only the provider's id is one statement on its own.
    SQLite, in-process, has no data-modifying WITH and no round trips to save, so it
    runs the same steps in turn.
    """
    if ctx.db.is_sqlite:
        return await _record_in_steps(ctx, event, delivery_id)
    news = _News(event, delivery_id, ctx.clock())
    if delivery_id is None:
        # Batches keep two callbacks about one text apart by its delivery; this one
        # names none, so it goes on its own.
        (ours,) = await _record(ctx, [news])
        return ours
    return await _status_news(ctx).submit(news)


class _News(NamedTuple):
    event: ProviderEvent
    delivery_id: uuid.UUID | None  # None: found by the provider's id
    received_at: datetime


def _status_news(ctx: ServiceContext) -> Batches[_News, bool]:
    if ctx.status_news is None:
        ctx.status_news = Batches(partial(_record_batch, ctx), key=lambda news: news.delivery_id)
    return ctx.status_news


async def _record_batch(ctx: ServiceContext, batch: list[_News]) -> list[bool | Exception]:
    try:
        return list(await _record(ctx, batch))
    except asyncpg.PostgresError as error:
        if len(batch) == 1:
            return [error]
        # One event PostgreSQL refuses must not fail the others: each is tried alone.
        return [(await _record_batch(ctx, [news]))[0] for news in batch]


async def _record(ctx: ServiceContext, batch: list[_News]) -> list[bool]:
    async with ctx.db.driver_connection() as connection:
        if len(batch) == 1:
            columns = _columns(batch[0])
            columns["params"] = json.dumps(columns["params"])
            rows = await connection.fetch(_RECORD_ONE, *columns.values())
        else:
            document = json.dumps([_columns(n) for n in batch], default=str)
            rows = await connection.fetch(_RECORD_MANY, document)
    return [
        _reported(news, row["found"], row["ours"]) for news, row in zip(batch, rows, strict=True)
    ]


def _columns(news: _News) -> dict[str, object]:
    """One row of `news` in _RECORD_NEWS, in the order of its columns."""
    event = news.event
    return {
        "delivery_id": news.delivery_id,
        "provider_id": event.provider_id,
        "event_id": new_id(),
        "provider_status": event.provider_status,
        "error_code": event.error_code,
        "params": event.params,
        "received_at": news.received_at,
        "reported": event.status,
        "moves_from": ",".join(statuses_moved_on_by(event.status) if event.status else ()),
        "reason": event.reason,
    }


def _reported(news: _News, found: bool, ours: bool) -> bool:
    if found and not ours:
        log.warning(
            "callback for %s names delivery %s of another text",
            news.event.provider_id,
            news.delivery_id,
        )
    elif not found:
        log.warning("status callback for unknown text %s", news.event.provider_id)
    return ours


async def _record_in_steps(
    ctx: ServiceContext, event: ProviderEvent, delivery_id: uuid.UUID | None
) -> bool:
    now = ctx.clock()
    async with ctx.db.core_transaction() as connection:
        found = await _find_locked(connection, event.provider_id, delivery_id)
        if found is None:
            return False
        await connection.execute(
            _INSERT_EVENT,
            {
                "id": new_id(),
                "delivery_id": found.id,
                "provider_status": event.provider_status,
                "error_code": event.error_code,
                "params": event.params,
                "received_at": now,
            },
        )
        changes: dict[str, object] = {}
        if found.provider_id is None:
            # The callback outran the dispatcher's record of the send (or the worker
            # died after the provider accepted): the text is out, so never send it again.
            changes.update(provider_id=event.provider_id, next_attempt_at=None)
        if event.status is not None:
            changes.update(
                status_changes(found.status, event.status, event.error_code, event.reason, now)
            )
        if changes:
            await connection.execute(
                update(_DELIVERIES).where(_DELIVERIES.c.id == found.id).values(**changes)
            )
    return True


def status_changes(
    current: str,
    reported: DeliveryStatus,
    error_code: str | None,
    reason: str | None,
    now: datetime,
) -> dict[str, object]:
    """The columns of a delivery that a reported status changes (none if it is stale)."""
    new = next_status(DeliveryStatus(current), reported)
    if new == current:
        return {}
    changes: dict[str, object] = {"status": new, "updated_at": now}
    if new == DeliveryStatus.FAILED:
        changes.update(error_code=error_code, error_message=reason)
    return changes


def apply_status(
    delivery: SmsDelivery,
    reported: DeliveryStatus,
    error_code: str | None,
    reason: str | None,
    now: datetime,
) -> None:
    for column, value in status_changes(delivery.status, reported, error_code, reason, now).items():
        setattr(delivery, column, value)


_DELIVERIES = cast(Table, SmsDelivery.__table__)
_FIND = select(_DELIVERIES.c.id, _DELIVERIES.c.status, _DELIVERIES.c.provider_id).with_for_update()
_FIND_BY_ID = _FIND.where(_DELIVERIES.c.id == bindparam("delivery_id"))
_FIND_BY_PROVIDER_ID = _FIND.where(_DELIVERIES.c.provider_id == bindparam("provider_id"))
_ANOTHER_WITH_PROVIDER_ID = select(
    select(_DELIVERIES.c.id).where(_DELIVERIES.c.provider_id == bindparam("provider_id")).exists()
)
_INSERT_EVENT = insert(cast(Table, DeliveryEvent.__table__))


# Provider events about different deliveries, in one statement, answered in their
# order. `news` has one row per event; its `moves_from` is the statuses the event moves
# on from, comma-separated: the status rule stays in Python, in statuses_moved_on_by().
# - Rows are locked in the order of their ids, so two statements that lock some of the
#   same rows (another process's batch) never deadlock.
# - The first news of a text (no provider id recorded yet) means it is out, even if the
#   callback outran the dispatcher's record of the send or the worker died after the
#   provider accepted: it is never sent again. A provider id that already names another
#   text is not this one's, and is refused as "of another text".
_RECORD_NEWS = """
WITH news AS (
    {news}
), found AS (
    SELECT id, status, provider_id FROM sms_deliveries
    WHERE id IN (SELECT delivery_id FROM news)
    ORDER BY id FOR UPDATE
), ours AS (
    SELECT news.*, found.provider_id IS NULL AS first_news,
           found.status = ANY(string_to_array(news.moves_from, ',')) AS moves
    FROM news JOIN found ON found.id = news.delivery_id
    WHERE found.provider_id = news.provider_id
       OR found.provider_id IS NULL AND NOT EXISTS (
              SELECT FROM sms_deliveries AS other WHERE other.provider_id = news.provider_id)
), event AS (
    INSERT INTO sms_delivery_events (id, delivery_id, provider_status, error_code, params,
                                     received_at)
    SELECT event_id, delivery_id, provider_status, error_code, params, received_at
    FROM ours
), changed AS (
    UPDATE sms_deliveries AS d SET
        provider_id = ours.provider_id,
        next_attempt_at = CASE WHEN first_news THEN NULL ELSE d.next_attempt_at END,
        status = CASE WHEN moves THEN reported ELSE d.status END,
        updated_at = CASE WHEN moves THEN ours.received_at ELSE d.updated_at END,
        error_code = CASE WHEN moves AND reported = 'failed' THEN ours.error_code
                          ELSE d.error_code END,
        error_message = CASE WHEN moves AND reported = 'failed' THEN reason
                             ELSE d.error_message END
    FROM ours
    WHERE d.id = ours.delivery_id AND (first_news OR moves)
)
SELECT found.id IS NOT NULL AS found, ours.position IS NOT NULL AS ours
FROM news LEFT JOIN found ON found.id = news.delivery_id
          LEFT JOIN ours ON ours.position = news.position
ORDER BY news.position
"""
# A lone event's columns are parameters; several events' are rows of one JSON array.
# Either way PostgreSQL plans the statement once per connection: from arrays it would
# plan it again on every call, since the estimate it makes from an array's length
# always beats the plan it keeps (about 0.45 ms of its CPU a call, measured). A lone
# event may name no delivery ($1 NULL): its provider id finds it.
_RECORD_ONE = _RECORD_NEWS.format(
    news="""SELECT COALESCE($1::uuid, (SELECT id FROM sms_deliveries WHERE provider_id = $2))
               AS delivery_id,
           $2::text AS provider_id, $3::uuid AS event_id, $4::text AS provider_status,
           $5::text AS error_code, $6::json AS params, $7::timestamptz AS received_at,
           $8::text AS reported, $9::text AS moves_from, $10::text AS reason,
           1 AS position"""
)
_RECORD_MANY = _RECORD_NEWS.format(
    news="""SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS (
        delivery_id uuid, provider_id text, event_id uuid, provider_status text,
        error_code text, params json, received_at timestamptz, reported text,
        moves_from text, reason text)) WITH ORDINALITY AS n (
        delivery_id, provider_id, event_id, provider_status, error_code, params,
        received_at, reported, moves_from, reason, position)"""
)


class _Found(NamedTuple):
    id: uuid.UUID
    status: str
    provider_id: str | None


async def _find_locked(
    connection: AsyncConnection, provider_id: str, delivery_id: uuid.UUID | None
) -> _Found | None:
    if delivery_id is not None:
        result = await connection.execute(_FIND_BY_ID, {"delivery_id": delivery_id})
    else:
        result = await connection.execute(_FIND_BY_PROVIDER_ID, {"provider_id": provider_id})
    row = result.one_or_none()
    if row is None:
        log.warning("status callback for unknown text %s", provider_id)
        return None
    found = _Found(*row)
    if found.provider_id not in (None, provider_id):
        log.warning(
            "callback for %s names delivery %s of %s", provider_id, delivery_id, found.provider_id
        )
        return None
    if found.provider_id is None and await connection.scalar(
        _ANOTHER_WITH_PROVIDER_ID, {"provider_id": provider_id}
    ):
        log.warning("callback for %s names delivery %s of another text", provider_id, delivery_id)
        return None
    return found

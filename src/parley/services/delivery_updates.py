"""What providers tell us about texts: statuses move forward only, every event is kept."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.db.models import DeliveryEvent, SmsDelivery
from parley.db.types import new_id
from parley.domain.delivery_status import DeliveryStatus, next_status, statuses_moved_on_by
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
    PostgreSQL it is one statement in one round trip; SQLite, in-process, has no
    data-modifying WITH and no round trips to save, so it runs the same steps in turn.
    """
    if ctx.db.is_sqlite:
        return await _record_in_steps(ctx, event, delivery_id)
    return await _record_in_one_statement(ctx, event, delivery_id)


async def _record_in_one_statement(
    ctx: ServiceContext, event: ProviderEvent, delivery_id: uuid.UUID | None
) -> bool:
    reported = event.status
    moves_from = () if reported is None else statuses_moved_on_by(reported)
    async with ctx.db.driver_connection() as connection:
        row = await connection.fetchrow(
            _RECORD_BY_ID if delivery_id is not None else _RECORD_BY_PROVIDER_ID,
            delivery_id or event.provider_id,
            event.provider_id,
            new_id(),
            event.provider_status,
            event.error_code,
            json.dumps(event.params),
            ctx.clock(),
            reported,
            moves_from,
            event.reason,
        )
    assert row is not None  # the outer SELECT always yields one row
    if row["found"] and not row["ours"]:
        log.warning(
            "callback for %s names delivery %s of another text", event.provider_id, delivery_id
        )
    elif not row["found"]:
        log.warning("status callback for unknown text %s", event.provider_id)
    return bool(row["ours"])


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
_INSERT_EVENT = insert(cast(Table, DeliveryEvent.__table__))


# $1 the delivery's id or provider id, $2 provider id, $3 event id, $4 provider status,
# $5 error code, $6 params, $7 now, $8 reported status, $9 statuses it moves on from,
# $10 reason. The status rule stays in Python: $9 comes from statuses_moved_on_by().
_RECORD = """
WITH found AS (
    SELECT id, status, provider_id FROM sms_deliveries WHERE {match} = $1 FOR UPDATE
), ours AS (
    SELECT id, status, provider_id FROM found WHERE provider_id IS NULL OR provider_id = $2
), event AS (
    INSERT INTO sms_delivery_events (id, delivery_id, provider_status, error_code, params,
                                     received_at)
    SELECT $3, id, $4, $5, $6::json, $7 FROM ours
), changed AS (
    -- A callback that outran the dispatcher's record of the send (or a worker that
    -- died after the provider accepted) means the text is out: never send it again.
    UPDATE sms_deliveries AS d SET
        provider_id = $2,
        next_attempt_at = CASE WHEN ours.provider_id IS NULL THEN NULL
                               ELSE d.next_attempt_at END,
        status = CASE WHEN moves THEN $8 ELSE d.status END,
        updated_at = CASE WHEN moves THEN $7 ELSE d.updated_at END,
        error_code = CASE WHEN moves AND $8 = 'failed' THEN $5 ELSE d.error_code END,
        error_message = CASE WHEN moves AND $8 = 'failed' THEN $10 ELSE d.error_message END
    FROM ours, LATERAL (SELECT ours.status = ANY($9::text[]) AS moves) AS rule
    WHERE d.id = ours.id AND (ours.provider_id IS NULL OR moves)
)
SELECT EXISTS (SELECT FROM found) AS found, EXISTS (SELECT FROM ours) AS ours
"""
_RECORD_BY_ID = _RECORD.format(match="id")
_RECORD_BY_PROVIDER_ID = _RECORD.format(match="provider_id")


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
    return found

"""What providers tell us about texts: statuses move forward only, every event is kept."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from parley.db.models import DeliveryEvent, SmsDelivery
from parley.domain.delivery_status import DeliveryStatus, next_status
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
    """Apply one provider event; False when it matches no delivery of ours."""
    now = ctx.clock()
    async with ctx.db.transaction() as session:
        delivery = await _find_locked(session, event.provider_id, delivery_id)
        if delivery is None:
            log.warning("status callback for unknown text %s", event.provider_id)
            return False
        session.add(
            DeliveryEvent(
                delivery_id=delivery.id,
                provider_status=event.provider_status,
                error_code=event.error_code,
                params=event.params,
                received_at=now,
            )
        )
        if delivery.provider_id is None:
            # The callback outran the dispatcher's record of the send (or the worker
            # died after the provider accepted): the text is out, so never send it again.
            delivery.provider_id = event.provider_id
            delivery.next_attempt_at = None
        if event.status is not None:
            apply_status(delivery, event.status, event.error_code, event.reason, now)
    return True


def apply_status(
    delivery: SmsDelivery,
    reported: DeliveryStatus,
    error_code: str | None,
    reason: str | None,
    now: datetime,
) -> None:
    current = DeliveryStatus(delivery.status)
    new = next_status(current, reported)
    if new == current:
        return
    delivery.status = new
    delivery.updated_at = now
    if new == DeliveryStatus.FAILED:
        delivery.error_code = error_code
        delivery.error_message = reason


async def _find_locked(
    session: AsyncSession, provider_id: str, delivery_id: uuid.UUID | None
) -> SmsDelivery | None:
    by = (
        SmsDelivery.id == delivery_id
        if delivery_id is not None
        else SmsDelivery.provider_id == provider_id
    )
    delivery = await session.scalar(select(SmsDelivery).where(by).with_for_update())
    if delivery is not None and delivery.provider_id not in (None, provider_id):
        log.warning(
            "callback for %s names delivery %s of %s",
            provider_id,
            delivery_id,
            delivery.provider_id,
        )
        return None
    return delivery

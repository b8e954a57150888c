"""Twilio's message statuses in our words, as a table."""

from __future__ import annotations

from parley.domain.delivery_status import DeliveryStatus

TWILIO_STATUSES: dict[str, DeliveryStatus | None] = {
    "accepted": DeliveryStatus.SENDING,
    "scheduled": DeliveryStatus.SENDING,
    "queued": DeliveryStatus.SENDING,
    "sending": DeliveryStatus.SENDING,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "failed": DeliveryStatus.FAILED,
    "undelivered": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
    # Inbound messages have statuses of their own; they say nothing about our texts.
    "receiving": None,
    "received": None,
    "partially_delivered": DeliveryStatus.SENT,
}


def our_status(twilio_status: str) -> DeliveryStatus | None:
    return TWILIO_STATUSES.get(twilio_status.strip().lower())

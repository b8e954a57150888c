"""The dispatcher against a provider that pushes back: a rate limit, an answer too late.

Parley and the carrier simulator run for real over HTTP; the simulator misbehaves the
way Twilio does, and the tests watch what reaches the client's phone.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from parley.db.models import SmsDelivery
from tests.conftest import make_firm
from tests.support.api import new_contact, new_conversation, post
from tests.support.live import LiveSystem, eventually, live_system

FIRM_NUMBER = "+12025550100"
CLIENT = "+12025550142"


async def text_the_client(live: LiveSystem) -> None:
    firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
    client = await new_contact(live.api, firm.headers, "Dana Whitfield", mobile_phone=CLIENT)
    conversation = await new_conversation(live.api, firm.headers, [client])
    await post(
        live.api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body="Your documents are ready to sign.",
        send_as_sms=True,
    )


async def the_delivery(live: LiveSystem) -> SmsDelivery:
    async with live.ctx.db.sessions() as session:
        return (await session.scalars(select(SmsDelivery))).one()


async def test_a_rate_limited_send_waits_out_retry_after_then_goes_once(
    database_url: str,
) -> None:
    async with live_system(database_url) as live:
        live.sim.mode, live.sim.retry_after = "rate_limited", 3
        await text_the_client(live)

        async def refused_once() -> bool:
            delivery = await the_delivery(live)
            return delivery.attempts == 1 and delivery.claimed_by is None

        await eventually(refused_once, within=5)
        # Back up at once: only Retry-After keeps the dispatcher from sending now.
        live.sim.mode = "up"
        delivery = await the_delivery(live)
        assert delivery.next_attempt_at is not None and delivery.first_attempt_at is not None
        assert delivery.next_attempt_at - delivery.first_attempt_at >= timedelta(seconds=3)

        await eventually(lambda: _delivered(live), within=10)
        refused, accepted = live.sim.create_requests
        assert (refused.status_code, accepted.status_code) == (429, 201)
        assert accepted.at - refused.at >= 3
        assert len(live.sim.sent_bodies()) == 1


async def test_a_send_answered_too_late_is_found_on_retry_and_texted_once(
    database_url: str,
) -> None:
    # The first callback comes well after the retry, so the retry itself must find the
    # text at the provider rather than be told of it.
    async with live_system(database_url, callback_delay=2.0, twilio_timeout_seconds=0.5) as live:
        live.sim.response_delay = 1.5  # accepted, but answered after our timeout
        await text_the_client(live)

        await eventually(lambda: _recorded(live), within=5)
        assert live.sim.callbacks == []
        delivery = await the_delivery(live)
        assert delivery.attempts == 2, "the first attempt timed out"
        (accepted,) = live.sim.messages.values()
        assert delivery.provider_id == accepted.sid

        await eventually(lambda: _delivered(live), within=10)
        assert len(live.sim.sent_bodies()) == 1


async def _recorded(live: LiveSystem) -> bool:
    return (await the_delivery(live)).provider_id is not None


async def _delivered(live: LiveSystem) -> bool:
    return (await the_delivery(live)).status == "delivered"

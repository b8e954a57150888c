"""The provider slow or rate limiting: texts wait as told and still go exactly once."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from parley.db.models import SmsDelivery
from tests.conftest import make_firm
from tests.support.api import new_contact, new_conversation, post
from tests.support.live import LiveSystem, eventually, live_system

FIRM_NUMBER, DANA = "+12025550100", "+12025550142"


async def text_dana(live: LiveSystem) -> None:
    firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
    dana = await new_contact(live.api, firm.headers, "Dana", mobile_phone=DANA)
    conversation = await new_conversation(live.api, firm.headers, [dana])
    await post(
        live.api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body="Your documents are ready.",
        send_as_sms=True,
    )


async def the_delivery(live: LiveSystem) -> SmsDelivery:
    async with live.ctx.db.sessions() as session:
        return (await session.scalars(select(SmsDelivery))).one()


async def test_a_429_is_waited_out_for_its_retry_after_then_the_text_goes_once(
    database_url: str,
) -> None:
    # Without Retry-After the next attempt would come within 0.1 s.
    async with live_system(database_url, sms_retry_base_seconds=0.1) as live:
        live.sim.mode, live.sim.retry_after = "rate_limited", 2
        await text_dana(live)

        async def refused_once() -> bool:
            return (await the_delivery(live)).attempts == 1 and len(live.sim.create_requests) == 1

        await eventually(refused_once)
        delivery = await the_delivery(live)
        assert delivery.next_attempt_at is not None and delivery.first_attempt_at is not None
        waits = delivery.next_attempt_at - delivery.first_attempt_at
        assert waits.total_seconds() >= 2
        await asyncio.sleep(1.0)
        assert [r.status_code for r in live.sim.create_requests] == [429], "no attempt meanwhile"

        live.sim.mode = "up"

        async def delivered() -> bool:
            return (await the_delivery(live)).status == "delivered"

        await eventually(delivered, within=15)
        assert [r.status_code for r in live.sim.create_requests] == [429, 201]
        assert len(live.sim.sent_bodies()) == 1


async def test_a_send_that_times_out_is_found_at_the_provider_not_sent_again(
    database_url: str,
) -> None:
    # No callback comes to the rescue: the retry has to ask the provider.
    async with live_system(
        database_url,
        callback_delay=300.0,
        twilio_timeout_seconds=0.5,
        sms_retry_base_seconds=0.1,
    ) as live:
        live.sim.response_delay = 2.0  # accepted at once, answered too late
        await text_dana(live)

        async def recorded() -> bool:
            return (await the_delivery(live)).provider_id is not None

        await eventually(recorded, within=15)
        delivery = await the_delivery(live)
        (sent,) = live.sim.messages.values()
        assert delivery.provider_id == sent.sid
        assert delivery.attempts == 2, "the first attempt timed out, the second found it"
        await asyncio.sleep(live.sim.response_delay)
        assert len(live.sim.sent_bodies()) == 1

"""Reconciliation: a text whose status callback was lost still reaches its true status.

Everything runs for real: Parley and the carrier simulator over HTTP, the production
Twilio adapter, and a network between them that loses the callbacks a test names.
Only the reconciler's clock is the test's, so "an hour without news" takes no time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
from sqlalchemy import select

from parley.db.models import DeliveryEvent, SmsDelivery
from parley.dispatch.reconciliation import Reconciler
from parley.providers.factory import build_sms_provider
from parley.services.context import ServiceContext
from parley.simulator.state import Outcome
from tests.conftest import StaffLogin, make_firm
from tests.support.api import new_contact, new_conversation, post
from tests.support.clock import TestClock
from tests.support.live import LiveSystem, eventually, live_system

FIRM_NUMBER = "+12025550100"
CLIENT = "+12025550142"
AFTER = timedelta(minutes=10)


class LosingNetwork(httpx.AsyncBaseTransport):
    """The internet between the carrier and Parley, losing callbacks of some statuses."""

    def __init__(self, *lost: str) -> None:
        self.lost = set(lost)
        self._internet = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        form = parse_qs((await request.aread()).decode())
        if form.get("MessageStatus", [""])[0] in self.lost:
            raise httpx.ConnectError("the callback was lost on the way", request=request)
        return await self._internet.handle_async_request(request)

    async def aclose(self) -> None:
        await self._internet.aclose()


@dataclass
class Scene:
    """A firm texting one client, and a reconciler whose clock the test moves."""

    live: LiveSystem
    firm: StaffLogin
    conversation_id: str
    clock: TestClock
    reconciler: Reconciler

    async def text(self, body: str) -> str:
        message = await post(
            self.live.api,
            f"/conversations/{self.conversation_id}/messages",
            self.firm.headers,
            body=body,
            send_as_sms=True,
        )
        return str(message["id"])

    async def sms(self, message_id: str) -> dict[str, Any]:
        """The message's text, as staff see it through the API."""
        response = await self.live.api.get(
            f"/api/v1/messages/{message_id}", headers=self.firm.headers
        )
        assert response.status_code == 200, response.text
        texts: list[dict[str, Any]] = response.json()["sms"]
        assert len(texts) == 1
        return texts[0]

    async def stuck(self, message_id: str, status: str) -> None:
        """Wait until the text sits at `status` and its next callback was lost."""

        async def callback_lost() -> bool:
            lost = [c for c in self.live.sim.callbacks if c.status_code is None]
            return bool(lost) and (await self.sms(message_id))["status"] == status

        await eventually(callback_lost, within=10)
        self.live.sim.callbacks.clear()

    def quiet_for(self, span: timedelta) -> None:
        """Time passes without news: the reconciler's clock moves `span` past now."""
        self.clock.now = datetime.now(UTC) + span


@asynccontextmanager
async def scene(
    database_url: str, *lost: str, callback_delay: float = 0.05
) -> AsyncIterator[Scene]:
    async with live_system(
        database_url, callback_delay=callback_delay, carrier_network=LosingNetwork(*lost)
    ) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        client = await new_contact(live.api, firm.headers, "Dana Whitfield", mobile_phone=CLIENT)
        conversation = await new_conversation(live.api, firm.headers, [client])
        clock = TestClock()
        ctx = ServiceContext(settings=live.settings, db=live.ctx.db, clock=clock)
        provider = build_sms_provider(live.settings)
        reconciler = Reconciler(ctx, provider, after=AFTER, interval=0.05)
        try:
            yield Scene(live, firm, str(conversation["id"]), clock, reconciler)
        finally:
            await provider.aclose()


async def events(live: LiveSystem, message_id: str) -> list[DeliveryEvent]:
    async with live.ctx.db.sessions() as session:
        found = await session.scalars(
            select(DeliveryEvent)
            .join(SmsDelivery, SmsDelivery.id == DeliveryEvent.delivery_id)
            .where(SmsDelivery.message_id == uuid.UUID(message_id))
            .order_by(DeliveryEvent.received_at)
        )
        return list(found)


async def test_a_text_whose_delivered_callback_was_lost_ends_delivered(
    database_url: str,
) -> None:
    async with scene(database_url, "delivered") as s:
        message_id = await s.text("Your documents are ready to sign.")
        await s.stuck(message_id, "sent")

        s.quiet_for(AFTER + timedelta(minutes=1))
        assert await s.reconciler.reconcile_once() == 1

        assert (await s.sms(message_id))["status"] == "delivered"
        latest = (await events(s.live, message_id))[-1]
        assert latest.provider_status == "delivered"
        assert latest.params["source"] == "reconciliation"
        assert latest.params["MessageSid"] in s.live.sim.messages


async def test_a_text_quiet_for_less_than_the_threshold_is_not_asked_about(
    database_url: str,
) -> None:
    async with scene(database_url, "delivered") as s:
        message_id = await s.text("Your documents are ready to sign.")
        await s.stuck(message_id, "sent")

        s.quiet_for(AFTER - timedelta(minutes=1))
        assert await s.reconciler.reconcile_once() == 0
        assert s.live.sim.fetch_requests == []
        assert (await s.sms(message_id))["status"] == "sent"

        s.quiet_for(AFTER + timedelta(minutes=1))
        assert await s.reconciler.reconcile_once() == 1
        assert len(s.live.sim.fetch_requests) == 1


async def test_an_unavailable_provider_changes_nothing_and_the_job_keeps_going(
    database_url: str,
) -> None:
    async with scene(database_url, "delivered") as s:
        first = await s.text("Your documents are ready to sign.")
        await s.stuck(first, "sent")
        second = await s.text("The hearing moved to Tuesday.")
        await s.stuck(second, "sent")
        s.live.sim.mode = "unavailable"
        s.quiet_for(AFTER + timedelta(minutes=1))
        stop = asyncio.Event()
        job = asyncio.create_task(s.reconciler.run(stop))
        try:
            # One failed answer does not end the pass: the other text is asked about too.
            await eventually(lambda: _fetched(s.live, 2), within=5)
            await asyncio.sleep(0.3)  # several passes at the test's interval of 0.05 s
            assert len(s.live.sim.fetch_requests) == 2, "texts it could not answer wait"
            assert not job.done()
            assert [(await s.sms(m))["status"] for m in (first, second)] == ["sent", "sent"]

            s.live.sim.mode = "up"
            s.quiet_for(2 * AFTER + timedelta(minutes=2))

            async def both_delivered() -> bool:
                return [(await s.sms(m))["status"] for m in (first, second)] == ["delivered"] * 2

            await eventually(both_delivered, within=5)
        finally:
            stop.set()
            await job


async def test_a_text_that_failed_at_the_provider_ends_failed_with_the_reason(
    database_url: str,
) -> None:
    async with scene(database_url, "undelivered") as s:
        s.live.sim.set_outcome(CLIENT, Outcome(kind="fail", error_code=30006))
        message_id = await s.text("Your documents are ready to sign.")
        await s.stuck(message_id, "sent")

        s.quiet_for(AFTER + timedelta(minutes=1))
        assert await s.reconciler.reconcile_once() == 1

        text = await s.sms(message_id)
        assert (text["status"], text["error_code"]) == ("failed", "30006")
        assert text["error_message"] == "Landline or unreachable carrier"
        latest = (await events(s.live, message_id))[-1]
        assert latest.params["source"] == "reconciliation"
        assert latest.params["ErrorCode"] == "30006"


async def test_texts_already_delivered_or_failed_are_never_asked_about(
    database_url: str,
) -> None:
    async with scene(database_url) as s:
        delivered = await s.text("Your documents are ready to sign.")
        await eventually(lambda: _status_is(s, delivered, "delivered"), within=10)
        s.live.sim.set_outcome(CLIENT, Outcome(kind="fail", error_code=30006))
        failed = await s.text("The hearing moved to Tuesday.")
        await eventually(lambda: _status_is(s, failed, "failed"), within=10)

        s.quiet_for(100 * AFTER)
        assert await s.reconciler.reconcile_once() == 0
        assert s.live.sim.fetch_requests == []


async def test_a_text_older_than_three_days_is_left_as_it_stands(database_url: str) -> None:
    # Some carriers never report delivery: "sent" is then Twilio's last word.
    async with scene(database_url, "delivered") as s:
        message_id = await s.text("Your documents are ready to sign.")
        await s.stuck(message_id, "sent")

        s.quiet_for(timedelta(days=3, minutes=1))
        assert await s.reconciler.reconcile_once() == 0
        assert s.live.sim.fetch_requests == []
        assert (await s.sms(message_id))["status"] == "sent"


async def test_a_text_the_provider_still_holds_is_asked_about_once_per_quiet_spell(
    database_url: str,
) -> None:
    # The carrier takes its time: Twilio keeps saying "queued" while the test runs.
    async with scene(database_url, callback_delay=120.0) as s:
        message_id = await s.text("Your documents are ready to sign.")
        await eventually(lambda: _recorded(s.live, message_id), within=10)

        s.quiet_for(AFTER + timedelta(minutes=1))
        assert await s.reconciler.reconcile_once() == 1
        s.quiet_for(AFTER + timedelta(minutes=6))  # the next pass, five minutes on
        await s.reconciler.reconcile_once()
        assert len(s.live.sim.fetch_requests) == 1
        assert (await s.sms(message_id))["status"] == "sending"
        answer = (await events(s.live, message_id))[-1]
        assert (answer.provider_status, answer.params["source"]) == ("queued", "reconciliation")

        s.quiet_for(2 * AFTER + timedelta(minutes=2))
        await s.reconciler.reconcile_once()
        assert len(s.live.sim.fetch_requests) == 2


async def _fetched(live: LiveSystem, count: int) -> bool:
    return len(live.sim.fetch_requests) >= count


async def _status_is(s: Scene, message_id: str, status: str) -> bool:
    return (await s.sms(message_id))["status"] == status


async def _recorded(live: LiveSystem, message_id: str) -> bool:
    async with live.ctx.db.sessions() as session:
        provider_id = await session.scalar(
            select(SmsDelivery.provider_id).where(SmsDelivery.message_id == uuid.UUID(message_id))
        )
        return provider_id is not None

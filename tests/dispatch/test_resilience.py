"""The dispatcher under faults: crashed workers, an unreachable provider, rival workers."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest
from sqlalchemy import func, select

from parley.db.models import SmsDelivery
from tests.conftest import StaffLogin, make_firm
from tests.support.api import new_contact, new_conversation, post
from tests.support.databases import empty_postgres
from tests.support.live import LiveSystem, eventually, live_system

FIRM_NUMBER = "+12025550100"
CLIENTS = ["+12025550142", "+12025550143", "+12025550144", "+12025550145"]


async def queue_texts(live: LiveSystem, firm: StaffLogin, messages: int, clients: int = 1) -> None:
    contacts = [
        await new_contact(live.api, firm.headers, f"Client {i}", mobile_phone=CLIENTS[i])
        for i in range(clients)
    ]
    conversation = await new_conversation(live.api, firm.headers, contacts)
    for i in range(messages):
        await post(
            live.api,
            f"/conversations/{conversation['id']}/messages",
            firm.headers,
            body=f"Update number {i}",
            send_as_sms=True,
        )


async def deliveries(live: LiveSystem, **where: Any) -> int:
    async with live.ctx.db.sessions() as session:
        query = select(func.count()).select_from(SmsDelivery)
        for column, condition in where.items():
            query = query.where(condition(getattr(SmsDelivery, column)))
        return int(await session.scalar(query) or 0)


def recorded(column: Any) -> Any:
    return column.is_not(None)


async def test_a_worker_killed_mid_batch_sends_every_text_exactly_once(database_url: str) -> None:
    # Callbacks would rescue an unrecorded send on their own; keep them out of the way so
    # the restarted worker has to find the text at the provider.
    async with live_system(
        database_url, with_dispatcher=False, callback_delay=300.0, sms_send_rate_per_second=20.0
    ) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        await queue_texts(live, firm, messages=40)
        live.sim.response_delay = 0.25  # accepted texts wait to be told: a kill lands there
        worker = live.start_worker(PARLEY_DISPATCH_LEASE_SECONDS="1.5")
        try:
            await eventually(lambda: _accepted_at_least(live, 12), within=60)
            worker.send_signal(signal.SIGKILL)
            await asyncio.to_thread(worker.wait)
        finally:
            worker.kill()
        unrecorded = len(live.sim.sent_bodies()) - await deliveries(live, provider_id=recorded)
        assert unrecorded >= 1, (
            "the kill should leave texts the provider took but we did not record"
        )

        live.sim.response_delay = 0.0
        restarted = live.start_worker(PARLEY_DISPATCH_LEASE_SECONDS="1.5")
        try:
            await eventually(lambda: _all_recorded(live, 40), within=90)
        finally:
            restarted.terminate()
            await asyncio.to_thread(restarted.wait)
        bodies = live.sim.sent_bodies()
        assert len(bodies) == 40
        assert len(set(bodies)) == 40


async def test_texts_wait_out_a_provider_outage_then_all_go_once(database_url: str) -> None:
    async with live_system(database_url, start_simulator=False, sms_max_attempts=30) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        await queue_texts(live, firm, messages=3)

        async def retried_while_refused() -> bool:
            return await deliveries(live, attempts=lambda a: a >= 2) == 3

        await eventually(retried_while_refused)
        assert await deliveries(live, status=lambda s: s == "sending") == 3
        async with live.start_simulator():
            live.sim.mode = "unavailable"  # up, but answering 503

            async def retried_while_unavailable() -> bool:
                return await deliveries(live, attempts=lambda a: a >= 4) == 3

            await eventually(retried_while_unavailable)
            assert live.sim.sent_bodies() == []
            live.sim.mode = "up"
            await eventually(lambda: _delivered(live, 3))
        bodies = live.sim.sent_bodies()
        assert sorted(bodies) == sorted(set(bodies))
        assert len(bodies) == 3


@pytest.fixture
async def postgres_url(_postgres_url: str) -> str:
    """Rival workers share work through PostgreSQL's SKIP LOCKED: PostgreSQL only."""
    await empty_postgres(_postgres_url)
    return _postgres_url


async def test_two_workers_on_postgresql_never_send_the_same_text_twice(
    postgres_url: str,
) -> None:
    async with live_system(postgres_url, with_dispatcher=False, callback_delay=300.0) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        await queue_texts(live, firm, messages=50, clients=4)
        async with (
            live.dispatcher(worker_id="a", concurrency=8) as a,
            live.dispatcher(worker_id="b", concurrency=8) as b,
        ):
            await eventually(lambda: _all_recorded(live, 200), within=60)
        bodies = live.sim.sent_bodies()
        assert len(bodies) == 200
        assert len(set(bodies)) == 200
        assert a.handed_over > 0 and b.handed_over > 0
        assert a.handed_over + b.handed_over == 200


async def _accepted_at_least(live: LiveSystem, count: int) -> bool:
    return len(live.sim.sent_bodies()) >= count


async def _all_recorded(live: LiveSystem, count: int) -> bool:
    return await deliveries(live, provider_id=recorded) == count


async def _delivered(live: LiveSystem, count: int) -> bool:
    return await deliveries(live, status=lambda s: s == "delivered") == count

"""Status callbacks arriving together on PostgreSQL, written in one statement per batch.

PostgreSQL only: SQLite writes each event on its own (services/delivery_updates.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy import select

from parley.db.models import DeliveryEvent
from parley.services.context import ServiceContext
from tests.conftest import PUBLIC_URL, StaffLogin
from tests.outbound.test_status_callbacks import event_count, queued_delivery, status_of
from tests.support.databases import empty_postgres
from tests.support.twilio_webhooks import new_sid, status_reported


@pytest.fixture
def database_url(_postgres_url: str) -> str:
    asyncio.run(empty_postgres(_postgres_url))
    return _postgres_url


@pytest.fixture
async def other_process(_postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, as another `parley serve` behind the load balancer has."""
    connection = await asyncpg.connect(_postgres_url)
    yield connection
    await connection.close()


async def until_a_statement_waits_for_a_row(connection: asyncpg.Connection) -> None:
    for _ in range(1000):
        if await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no statement waited for the row within 10 s")


async def test_callbacks_for_many_texts_arriving_together_each_move_their_own_text(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    deliveries = [await queued_delivery(api, firm) for _ in range(12)]
    sids = [new_sid() for _ in deliveries]
    news = [("sent", d, sid) for d, sid in zip(deliveries, sids, strict=True)]
    news += [("delivered", d, sid) for d, sid in zip(deliveries[::2], sids[::2], strict=True)]
    responses = await asyncio.gather(
        *(
            status_reported(api, ctx, delivery_id=d["delivery_id"], sid=sid, status=status)
            for status, d, sid in news
        )
    )
    assert [r.status_code for r in responses] == [204] * len(news)
    statuses = [(await status_of(api, firm, d["message_id"]))["status"] for d in deliveries]
    assert statuses == ["delivered", "sent"] * 6
    assert await event_count(ctx) == len(news)
    async with ctx.db.sessions() as session:
        kept = await session.scalars(select(DeliveryEvent.params))
        assert {(p["MessageSid"], p["MessageStatus"]) for p in kept} == {
            (sid, status) for status, _, sid in news
        }


async def test_in_a_batch_only_the_callback_for_an_unknown_text_is_reported_unknown(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    deliveries = [str(uuid.uuid4())] + [
        (await queued_delivery(api, firm))["delivery_id"] for _ in range(6)
    ]
    # The first two run at once on their own, the rest wait and go as one batch, led by
    # a text we never sent: each callback is answered for its own text.
    deliveries[2] = str(uuid.uuid4())
    sids = [new_sid() for _ in deliveries]
    with caplog.at_level(logging.WARNING, logger="parley.services.delivery_updates"):
        responses = await asyncio.gather(
            *(
                status_reported(api, ctx, delivery_id=delivery, sid=sid, status="sent")
                for delivery, sid in zip(deliveries, sids, strict=True)
            )
        )
    assert [r.status_code for r in responses] == [204] * len(deliveries)
    unknown = [r.getMessage() for r in caplog.records if "unknown text" in r.getMessage()]
    assert sorted(unknown) == sorted(f"status callback for unknown text {sids[i]}" for i in (0, 2))


async def test_a_callback_postgresql_refuses_fails_alone_and_the_others_are_kept(
    app: object, ctx: ServiceContext, firm: StaffLogin, other_process: asyncpg.Connection
) -> None:
    # PostgreSQL refusing one event, as it would a row no constraint admits.
    await other_process.execute(
        """CREATE FUNCTION refuse_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN
               IF NEW.provider_status = 'refuse-me' THEN RAISE EXCEPTION 'refused'; END IF;
               RETURN NEW;
           END $$;
           CREATE TRIGGER refuse_for_test BEFORE INSERT ON sms_delivery_events
           FOR EACH ROW EXECUTE FUNCTION refuse_for_test();"""
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as api:
            deliveries = [await queued_delivery(api, firm) for _ in range(8)]
            statuses = ["sent"] * 6 + ["refuse-me", "sent"]
            responses = await asyncio.gather(
                *(
                    status_reported(
                        api, ctx, delivery_id=d["delivery_id"], sid=new_sid(), status=status
                    )
                    for d, status in zip(deliveries, statuses, strict=True)
                )
            )
            assert [r.status_code for r in responses] == [204] * 6 + [500, 204]
            kept = [(await status_of(api, firm, d["message_id"]))["status"] for d in deliveries]
            assert kept == ["sent"] * 6 + ["sending", "sent"]
            assert await event_count(ctx) == 7
    finally:
        await other_process.execute(
            "DROP TRIGGER refuse_for_test ON sms_delivery_events; DROP FUNCTION refuse_for_test()"
        )


async def test_a_stale_status_waiting_on_another_process_never_undoes_its_news(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, other_process: asyncpg.Connection
) -> None:
    delivery = await queued_delivery(api, firm)
    sid = new_sid()
    async with other_process.transaction():
        # Another server records "delivered" and has not committed yet ...
        await other_process.execute(
            "UPDATE sms_deliveries SET status = 'delivered', provider_id = $2 WHERE id = $1::uuid",
            delivery["delivery_id"],
            sid,
        )
        # ... while a late "sent" reaches this one and waits for that row.
        late = asyncio.create_task(
            status_reported(api, ctx, delivery_id=delivery["delivery_id"], sid=sid, status="sent")
        )
        await until_a_statement_waits_for_a_row(other_process)
    assert (await late).status_code == 204
    assert (await status_of(api, firm, delivery["message_id"]))["status"] == "delivered"
    assert await event_count(ctx) == 1

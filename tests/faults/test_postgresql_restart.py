"""PostgreSQL crashes and restarts under load: every request the service accepted is kept.

Staff send messages as SMS, clients text in and Twilio reports on the texts, from
several connections at once,
while the database is killed without a clean shutdown and started again. The service
is not touched: it must answer 503 (never a 500) while the database is away, find it
again by itself, and afterwards every message and text it answered 2xx for must be in
the database, every accepted SMS handed to the carrier exactly once.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import select

from parley.db import migrate
from parley.db.models import DeliveryEvent, InboundText, Message, SmsDelivery
from tests.conftest import make_firm
from tests.support.api import new_contact, new_conversation
from tests.support.live import LiveSystem, eventually, live_system
from tests.support.restartable_postgres import RestartableServer, restartable_postgres
from tests.support.twilio_webhooks import new_sid, status_reported, text_in

pytestmark = pytest.mark.slow

FIRM_NUMBER, DANA = "+12025550100", "+12025550142"
SENDERS = TEXTERS = REPORTERS = 3
BEFORE_CRASH, AFTER_RESTART = 1.5, 3.0


@pytest.fixture
def database() -> Iterator[RestartableServer]:
    with restartable_postgres() as server:
        migrate.upgrade(server.url)
        yield server


@dataclass
class Load:
    messages: list[tuple[str, str]] = field(default_factory=list)  # (id, body) answered 201
    texts: list[str] = field(default_factory=list)  # MessageSids answered 200
    reports: Counter[str] = field(default_factory=Counter)  # failures answered 204, by text
    refusals: Counter[int] = field(default_factory=Counter)
    accepted_since_restart: int = 0
    restarted: bool = False
    stop: bool = False

    def refused(self, response: httpx.Response) -> None:
        self.refusals[response.status_code] += 1
        assert response.json()["error"]["code"], response.text

    def accepted(self) -> None:
        self.accepted_since_restart += self.restarted


async def send_messages(live: LiveSystem, staff: dict[str, str], path: str, load: Load) -> None:
    n = 0
    while not load.stop:
        n += 1
        body = f"Update {id(asyncio.current_task())}-{n}."  # the stop: -1. is not in -10.
        response = await live.api.post(
            path, json={"body": body, "send_as_sms": True}, headers=staff
        )
        if response.status_code == 201:
            load.messages.append((response.json()["id"], body))
            load.accepted()
        else:
            load.refused(response)


async def text_in_replies(live: LiveSystem, load: Load) -> None:
    while not load.stop:
        sid = new_sid()
        response = await text_in(
            live.api, live.ctx, from_=DANA, to=FIRM_NUMBER, body=f"Reply {sid}", sid=sid
        )
        if response.status_code == 200:
            load.texts.append(sid)
            load.accepted()
        else:
            load.refused(response)


async def report_statuses(live: LiveSystem, load: Load) -> None:
    """Twilio reporting failures of texts it took (extra events: a final state stays)."""
    taken: list[tuple[str, str]] = []  # (delivery id, provider id), read before the crash
    while not load.stop:
        if not taken:
            async with live.ctx.db.sessions() as session:
                rows = await session.execute(
                    select(SmsDelivery.id, SmsDelivery.provider_id)
                    .where(SmsDelivery.provider_id.is_not(None))
                    .limit(100)
                )
            taken = [(str(delivery), str(sid)) for delivery, sid in rows]
            await asyncio.sleep(0 if taken else 0.05)
            continue
        delivery, sid = random.choice(taken)
        response = await status_reported(
            live.api, live.ctx, delivery_id=delivery, sid=sid, status="failed"
        )
        if response.status_code == 204:
            load.reports[delivery] += 1
            load.accepted()
        else:
            load.refused(response)


async def test_a_crash_and_restart_under_load_loses_nothing_the_service_accepted(
    database: RestartableServer,
) -> None:
    async with live_system(database.url, dispatch_lease_seconds=2.0) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        dana = await new_contact(live.api, firm.headers, "Dana", mobile_phone=DANA)
        conversation = await new_conversation(live.api, firm.headers, [dana])
        path = f"/api/v1/conversations/{conversation['id']}/messages"
        load = Load()
        workers = [
            *(
                asyncio.create_task(send_messages(live, firm.headers, path, load))
                for _ in range(SENDERS)
            ),
            *(asyncio.create_task(text_in_replies(live, load)) for _ in range(TEXTERS)),
            *(asyncio.create_task(report_statuses(live, load)) for _ in range(REPORTERS)),
        ]
        await asyncio.sleep(BEFORE_CRASH)
        crashed_at = time.monotonic()
        await asyncio.to_thread(database.crash_and_restart)
        load.restarted = True
        await asyncio.sleep(AFTER_RESTART)
        load.stop = True
        await asyncio.gather(*workers)
        print(
            f"\naccepted {len(load.messages)} messages, {len(load.texts)} texts and "
            f"{load.reports.total()} status reports, "
            f"{load.accepted_since_restart} after the restart "
            f"({time.monotonic() - crashed_at:.1f}s after the crash); refused {dict(load.refusals)}"
        )

        assert set(load.refusals) <= {503}, "while the database is away, only 503"
        assert load.accepted_since_restart > 0, "the service found the database again"
        async with live.ctx.db.sessions() as session:
            kept_messages = set(await session.scalars(select(Message.id)))
            kept_texts = set(await session.scalars(select(InboundText.provider_id)))
            kept_reports = Counter(
                str(delivery)
                for delivery in await session.scalars(
                    select(DeliveryEvent.delivery_id).where(
                        DeliveryEvent.provider_status == "failed"
                    )
                )
            )
        assert {m for m, _ in load.messages} <= {str(m) for m in kept_messages}
        assert set(load.texts) <= kept_texts
        assert all(kept_reports[d] >= n for d, n in load.reports.items())

        async def every_accepted_text_handed_over() -> bool:
            async with live.ctx.db.sessions() as session:
                waiting = await session.scalar(
                    select(SmsDelivery.id).where(SmsDelivery.provider_id.is_(None)).limit(1)
                )
            return waiting is None

        await eventually(every_accepted_text_handed_over, within=60)
        sent = Counter(
            body for text in live.sim.sent_bodies() for _, body in load.messages if body in text
        )
        assert all(sent[body] == 1 for _, body in load.messages)

"""Send as SMS end to end: Parley, its dispatcher, the Twilio adapter and the simulator."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from parley.db.models import FirmSmsNumber, SmsOptOut
from parley.simulator.state import Outcome
from tests.conftest import StaffLogin, make_firm
from tests.support.api import new_contact, new_conversation, post
from tests.support.live import LiveSystem, eventually, live_system
from tests.support.twilio_webhooks import text_in

FIRM_NUMBER = "+12025550100"
DANA, LEE = "+12025550142", "+12025550143"


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[LiveSystem]:
    async with live_system(database_url) as system:
        yield system


@pytest.fixture
async def firm(live: LiveSystem) -> StaffLogin:
    return await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "avery@halemarsh.example")


async def conversation_with(
    live: LiveSystem, firm: StaffLogin, *people: tuple[str, str | None]
) -> Any:
    contacts = [
        await new_contact(live.api, firm.headers, name, mobile_phone=phone)
        for name, phone in people
    ]
    return await new_conversation(live.api, firm.headers, contacts)


async def send(live: LiveSystem, firm: StaffLogin, conversation: Any, body: str) -> Any:
    return await post(
        live.api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body=body,
        send_as_sms=True,
    )


async def sms_of(live: LiveSystem, firm: StaffLogin, message_id: str) -> list[dict[str, Any]]:
    message = await live.api.get(f"/api/v1/messages/{message_id}", headers=firm.headers)
    return list(message.json()["sms"])


async def test_two_clients_get_one_text_each_with_their_own_link(
    live: LiveSystem, firm: StaffLogin
) -> None:
    conversation = await conversation_with(live, firm, ("Dana", DANA), ("Lee", LEE))
    message = await send(live, firm, conversation, "Your documents are ready to sign.")
    await eventually(lambda: _all_are(live, firm, message["id"], "delivered", count=2))
    requests = [r for r in live.sim.create_requests if r.status_code == 201]
    assert sorted(r.to for r in requests) == [DANA, LEE]
    assert {r.from_ for r in requests} == {FIRM_NUMBER}
    bodies = live.sim.sent_bodies()
    links = [re.search(r"/r/([A-Za-z0-9_-]+)$", body) for body in bodies]
    assert all(links) and len({m.group(1) for m in links if m}) == 2
    assert all(body.startswith("Hale & Marsh LLP: Your documents are ready") for body in bodies)


async def test_statuses_walk_sending_sent_delivered_through_signed_callbacks(
    live: LiveSystem, firm: StaffLogin
) -> None:
    conversation = await conversation_with(live, firm, ("Dana", DANA))
    message = await send(live, firm, conversation, "Hearing moved to Tuesday.")
    assert message["sms"][0]["status"] == "sending"
    await eventually(lambda: _status_is(live, firm, message["id"], "delivered"))
    reported = [c.params["MessageStatus"] for c in live.sim.callbacks]
    assert reported == ["sent", "delivered"]
    assert all(c.status_code == 204 for c in live.sim.callbacks)


async def test_a_carrier_failure_ends_failed_with_code_and_reason(
    live: LiveSystem, firm: StaffLogin
) -> None:
    live.sim.set_outcome(DANA, Outcome(kind="fail", error_code=30005))
    conversation = await conversation_with(live, firm, ("Dana", DANA))
    message = await send(live, firm, conversation, "Please call us.")
    await eventually(lambda: _status_is(live, firm, message["id"], "failed"))
    (sms,) = await sms_of(live, firm, message["id"])
    assert sms["error_code"] == "30005"
    assert sms["error_message"] == "Unknown destination number, or it no longer exists"


async def test_a_permanent_provider_error_fails_at_once_without_retrying(
    live: LiveSystem, firm: StaffLogin
) -> None:
    conversation = await conversation_with(live, firm, ("Unsubscribed", "+15005550004"))
    message = await send(live, firm, conversation, "Hello")
    await eventually(lambda: _status_is(live, firm, message["id"], "failed"))
    (sms,) = await sms_of(live, firm, message["id"])
    assert sms["error_code"] == "21610"
    assert sms["error_message"].startswith("Opted out")
    assert len(live.sim.create_requests) == 1


async def test_an_opted_out_client_is_not_texted_and_the_provider_never_called(
    live: LiveSystem, firm: StaffLogin
) -> None:
    async with live.ctx.db.transaction() as session:
        session.add(
            SmsOptOut(firm_id=firm.scope.firm_id, phone_number=DANA, opted_out_at=live.ctx.clock())
        )
    conversation = await conversation_with(live, firm, ("Dana", DANA), ("Lee", LEE))
    message = await send(live, firm, conversation, "Update")
    await eventually(lambda: _status_is(live, firm, message["id"], "delivered", index=1))
    dana_sms = (await sms_of(live, firm, message["id"]))[0]
    assert (dana_sms["to"], dana_sms["status"]) == (DANA, "failed")
    assert dana_sms["error_message"].startswith("Opted out")
    assert [r.to for r in live.sim.create_requests] == [LEE]


async def test_a_stop_that_arrives_while_the_text_is_queued_holds_it_back(
    database_url: str,
) -> None:
    async with live_system(database_url, with_dispatcher=False) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        conversation = await conversation_with(live, firm, ("Dana", DANA))
        message = await send(live, firm, conversation, "Your hearing moved.")
        stop = await text_in(live.api, live.ctx, from_=DANA, to=FIRM_NUMBER, body="STOP")
        assert stop.status_code == 200
        async with live.dispatcher():
            await eventually(lambda: _status_is(live, firm, message["id"], "failed"))
        (sms,) = await sms_of(live, firm, message["id"])
        assert sms["error_message"].startswith("Opted out")
        assert live.sim.create_requests == []


async def test_participants_without_a_mobile_are_listed_as_not_texted(
    live: LiveSystem, firm: StaffLogin
) -> None:
    conversation = await conversation_with(live, firm, ("Dana", DANA), ("Pat", None))
    message = await send(live, firm, conversation, "Update")
    assert [(n["name"], n["reason"]) for n in message["not_texted"]] == [
        ("Pat", "No mobile number")
    ]
    assert [s["to"] for s in message["sms"]] == [DANA]


async def test_resend_texts_a_portal_only_message_to_every_mobile_participant(
    live: LiveSystem, firm: StaffLogin
) -> None:
    conversation = await conversation_with(live, firm, ("Dana", DANA), ("Lee", LEE), ("Pat", None))
    portal_only = await post(
        live.api, f"/conversations/{conversation['id']}/messages", firm.headers, body="FYI"
    )
    assert portal_only["sms"] == []
    resent = await live.api.post(
        f"/api/v1/messages/{portal_only['id']}/resend-sms", headers=firm.headers
    )
    assert resent.status_code == 201
    assert sorted(s["to"] for s in resent.json()["sms"]) == [DANA, LEE]
    await eventually(lambda: _all_are(live, firm, portal_only["id"], "delivered", count=2))
    assert sorted(r.to for r in live.sim.create_requests) == [DANA, LEE]


async def test_resend_adds_new_deliveries_and_leaves_the_old_ones(
    live: LiveSystem, firm: StaffLogin
) -> None:
    live.sim.set_outcome(DANA, Outcome(kind="fail"))
    conversation = await conversation_with(live, firm, ("Dana", DANA))
    message = await send(live, firm, conversation, "Update")
    await eventually(lambda: _status_is(live, firm, message["id"], "failed"))
    live.sim.set_outcome(DANA, Outcome(kind="deliver"))
    await live.api.post(f"/api/v1/messages/{message['id']}/resend-sms", headers=firm.headers)
    await eventually(lambda: _status_is(live, firm, message["id"], "delivered", index=1))
    statuses = [s["status"] for s in await sms_of(live, firm, message["id"])]
    assert statuses == ["failed", "delivered"]
    first, second = live.sim.sent_bodies()
    assert first.split("/r/")[1] != second.split("/r/")[1]


async def test_a_slow_dispatcher_poll_still_sends_at_once_when_woken(
    database_url: str,
) -> None:
    async with live_system(database_url, dispatch_poll_seconds=120.0) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        conversation = await conversation_with(live, firm, ("Dana", DANA))
        message = await send(live, firm, conversation, "Now")
        await eventually(lambda: _status_is(live, firm, message["id"], "delivered"), within=10)


async def test_a_number_is_held_to_its_rate(database_url: str) -> None:
    async with live_system(database_url, sms_send_rate_per_second=10.0) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        conversation = await conversation_with(live, firm, ("Dana", DANA))
        for i in range(50):
            await post(
                live.api,
                f"/conversations/{conversation['id']}/messages",
                firm.headers,
                body=f"Text {i}",
                send_as_sms=True,
            )

        async def all_sent() -> bool:
            return len(live.sim.create_requests) == 50

        await eventually(all_sent, within=30)
    times = sorted(r.at for r in live.sim.create_requests)
    # Seen at the carrier, a send can arrive up to ~0.2 s late (the simulator shares an
    # event loop with Parley here), bunching a one-second window; the exact spacing is
    # tested at the limiter (tests/dispatch/test_rate_limit.py). Two seconds even it out.
    assert live.sim.max_in_any_window(FIRM_NUMBER, 2.0) <= 2 * 10 + 1
    assert times[-1] - times[0] >= 4.5  # 50 texts at 10/s take about five seconds


async def test_a_number_of_its_own_rate_uses_it(database_url: str) -> None:
    async with live_system(database_url, sms_send_rate_per_second=1000.0) as live:
        firm = await make_firm(live.ctx, "Hale & Marsh LLP", FIRM_NUMBER, "a@h.example")
        async with live.ctx.db.transaction() as session:
            number = await session.scalar(select(FirmSmsNumber))
            assert number is not None
            number.send_rate_per_second = 5.0
        conversation = await conversation_with(live, firm, ("Dana", DANA))
        for i in range(10):
            await send(live, firm, conversation, f"Text {i}")
        await eventually(lambda: _count_is(live, 10), within=20)
    times = sorted(r.at for r in live.sim.create_requests)
    # Ten texts at its 5/s take 1.8 s; at the default 1,000/s they would take 10 ms.
    assert times[-1] - times[0] >= 1.6


async def _count_is(live: LiveSystem, count: int) -> bool:
    return len(live.sim.create_requests) == count


async def _status_is(
    live: LiveSystem, firm: StaffLogin, message_id: str, status: str, index: int = 0
) -> bool:
    sms = await sms_of(live, firm, message_id)
    return len(sms) > index and sms[index]["status"] == status


async def _all_are(
    live: LiveSystem, firm: StaffLogin, message_id: str, status: str, count: int
) -> bool:
    return [s["status"] for s in await sms_of(live, firm, message_id)] == [status] * count

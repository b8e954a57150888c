"""Plain-text replies: filed when exactly one conversation texted the client, else held."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from parley.db.models import InboundText, Message
from parley.services.context import ServiceContext
from tests.conftest import StaffLogin
from tests.support.api import messages_of, new_contact, new_conversation, post
from tests.support.clock import TestClock
from tests.support.twilio_webhooks import text_in

DANA = "+12025550142"


async def texted_conversation(
    api: httpx.AsyncClient, firm: StaffLogin, contact: dict[str, Any], subject: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    conversation = await new_conversation(api, firm.headers, [contact], subject=subject)
    message = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body=f"News about {subject}",
        send_as_sms=True,
    )
    return conversation, message


async def inbox(api: httpx.AsyncClient, firm: StaffLogin) -> list[dict[str, Any]]:
    return list((await api.get("/api/v1/inbox", headers=firm.headers)).json()["items"])


@pytest.fixture
async def dana(api: httpx.AsyncClient, firm: StaffLogin) -> dict[str, Any]:
    return dict(await new_contact(api, firm.headers, "Dana Whitfield", mobile_phone=DANA))


async def test_reply_in_the_one_active_conversation_lands_there_answering_the_text(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, dana: dict[str, Any]
) -> None:
    conversation, original = await texted_conversation(api, firm, dana, "Probate")
    response = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Thanks, got it")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Message>" not in response.text
    reply = (await messages_of(api, firm.headers, conversation))[-1]
    assert reply["body"] == "Thanks, got it"
    assert reply["channel"] == "sms"
    assert reply["author"] == {"type": "contact", "id": dana["id"], "name": "Dana Whitfield"}
    assert reply["in_reply_to_id"] == original["id"]


async def test_a_routed_reply_lifts_its_conversation_to_the_top(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    dana: dict[str, Any],
    clock: TestClock,
) -> None:
    conversation, _ = await texted_conversation(api, firm, dana, "Probate")
    lee = await new_contact(api, firm.headers, "Lee")
    await new_conversation(api, firm.headers, [lee], subject="Newer")
    clock.advance(minutes=1)
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Question")
    listed = (await api.get("/api/v1/conversations", headers=firm.headers)).json()["items"]
    assert listed[0]["id"] == conversation["id"]


async def test_a_second_texting_conversation_blocks_plain_replies_until_the_first_ages_out(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    dana: dict[str, Any],
    clock: TestClock,
) -> None:
    first, _ = await texted_conversation(api, firm, dana, "Probate")
    clock.advance(days=30)
    second, latest = await texted_conversation(api, firm, dana, "Lease")

    blocked = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Which one?")
    assert "could not be delivered" in blocked.text
    assert [item["reason"] for item in await inbox(api, firm)] == ["multiple_conversations"]

    clock.advance(days=61)  # the first texted 91 days ago, the second 61
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Now it works")
    reply = (await messages_of(api, firm.headers, second))[-1]
    assert reply["body"] == "Now it works"
    assert reply["in_reply_to_id"] == latest["id"]
    assert all(m["body"] != "Now it works" for m in await messages_of(api, firm.headers, first))


async def test_a_blocked_reply_is_kept_noticed_once_a_day_and_filed_once(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    dana: dict[str, Any],
    clock: TestClock,
) -> None:
    first, _ = await texted_conversation(api, firm, dana, "Probate")
    await texted_conversation(api, firm, dana, "Lease")

    notices = []
    for body in ("one", "two"):
        answer = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body=body)
        notices.append("<Message>" in answer.text)
        clock.advance(hours=23)
    answer = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="three")
    notices.append("<Message>" in answer.text)
    assert notices == [True, False, True]

    held = await inbox(api, firm)
    assert [item["body"] for item in held] == ["three", "two", "one"]
    assert held[-1]["contact"]["name"] == "Dana Whitfield"

    path = f"/api/v1/inbox/{held[-1]['id']}/assign"
    filed = await api.post(path, json={"conversation_id": first["id"]}, headers=firm.headers)
    assert filed.status_code == 201
    assert filed.json()["channel"] == "sms"
    assert filed.json()["author"]["id"] == dana["id"]
    again = await api.post(path, json={"conversation_id": first["id"]}, headers=firm.headers)
    assert again.status_code == 409
    bodies = [m["body"] for m in await messages_of(api, firm.headers, first)]
    assert bodies.count("one") == 1
    shown = (await inbox(api, firm))[-1]["filed"]
    assert shown["conversation_id"] == first["id"]
    assert shown["message_id"] == filed.json()["id"]


async def test_a_client_who_opted_out_gets_no_notice_but_the_text_is_still_held(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, dana: dict[str, Any]
) -> None:
    await texted_conversation(api, firm, dana, "Probate")
    await texted_conversation(api, firm, dana, "Lease")
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="STOP")
    answer = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Which one?")
    assert "<Message>" not in answer.text
    (item,) = await inbox(api, firm)
    assert item["body"] == "Which one?"
    assert item["reason"] == "multiple_conversations"


async def test_a_text_from_an_unknown_number_is_held_as_unknown_sender(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    await text_in(api, ctx, from_="+12025550999", to=firm.sms_number, body="Who is this?")
    (item,) = await inbox(api, firm)
    assert item["reason"] == "unknown_sender"
    assert item["contact"] is None
    assert item["body"] == "Who is this?"


async def test_a_known_client_with_no_recent_text_is_held_as_no_conversation(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, dana: dict[str, Any]
) -> None:
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Hello?")
    (item,) = await inbox(api, firm)
    assert item["reason"] == "no_conversation"
    assert item["contact"]["id"] == dana["id"]


async def test_a_duplicate_webhook_delivery_is_handled_once(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, dana: dict[str, Any]
) -> None:
    conversation, _ = await texted_conversation(api, firm, dana, "Probate")
    first = await text_in(
        api, ctx, from_=DANA, to=firm.sms_number, body="Once", sid="SM" + "d" * 32
    )
    second = await text_in(
        api, ctx, from_=DANA, to=firm.sms_number, body="Once", sid="SM" + "d" * 32
    )
    assert first.text == second.text
    bodies = [m["body"] for m in await messages_of(api, firm.headers, conversation)]
    assert bodies.count("Once") == 1


async def test_retries_arriving_together_are_stored_and_filed_once(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, dana: dict[str, Any]
) -> None:
    conversation, _ = await texted_conversation(api, firm, dana, "Probate")
    sid = "SM" + "c" * 32
    answers = await asyncio.gather(
        *(text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Twice?", sid=sid) for _ in "1234")
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    bodies = [m["body"] for m in await messages_of(api, firm.headers, conversation)]
    assert bodies.count("Twice?") == 1
    async with ctx.db.sessions() as session:
        stored = await session.scalar(select(func.count()).select_from(InboundText))
    assert stored == 1


async def test_a_text_to_a_number_no_firm_has_is_stored_as_unroutable(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    response = await text_in(api, ctx, from_=DANA, to="+12025550777", body="Anyone?")
    assert response.status_code == 200
    async with ctx.db.sessions() as session:
        stored = await session.scalar(select(InboundText))
    assert stored is not None
    assert (stored.outcome, stored.body, stored.firm_id) == ("unroutable", "Anyone?", None)


async def test_pictures_are_kept_on_the_filed_message(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, dana: dict[str, Any]
) -> None:
    conversation, _ = await texted_conversation(api, firm, dana, "Probate")
    media = [
        ("https://api.twilio.com/media/ME1", "image/jpeg"),
        ("https://api.twilio.com/media/ME2", "application/pdf"),
    ]
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Scans", media=media)
    reply = (await messages_of(api, firm.headers, conversation))[-1]
    assert reply["media"] == [{"url": u, "content_type": t} for u, t in media]


async def test_the_sender_number_is_normalized_to_e164(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, dana: dict[str, Any]
) -> None:
    conversation, _ = await texted_conversation(api, firm, dana, "Probate")
    await text_in(api, ctx, from_="(202) 555-0142", to=firm.sms_number, body="Local format")
    assert (await messages_of(api, firm.headers, conversation))[-1]["body"] == "Local format"


@pytest.mark.parametrize("signature", [False, "forged"])
async def test_forged_inbound_webhooks_are_403_and_store_nothing(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    dana: dict[str, Any],
    signature: bool | str,
) -> None:
    conversation, _ = await texted_conversation(api, firm, dana, "Probate")
    if signature == "forged":
        response = await api.post(
            "/webhooks/twilio/inbound",
            data={"MessageSid": "SM1", "From": DANA, "To": firm.sms_number, "Body": "Forged"},
            headers={"X-Twilio-Signature": "c2lnbmF0dXJl"},
        )
    else:
        response = await text_in(
            api, ctx, from_=DANA, to=firm.sms_number, body="Forged", signed=False
        )
    assert response.status_code == 403
    async with ctx.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboundText)) == 0
        bodies = list(await session.scalars(select(Message.body)))
    assert "Forged" not in bodies
    assert conversation

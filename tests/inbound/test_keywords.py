"""STOP, START and HELP by text: honoured, ledgered, never filed as a reply."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parley.db.models import ConsentEvent, Message
from parley.services.context import ServiceContext
from tests.conftest import StaffLogin
from tests.support.api import new_contact, new_conversation, post
from tests.support.twilio_webhooks import text_in

DANA = "+12025550142"


@pytest.fixture
async def conversation(api: httpx.AsyncClient, firm: StaffLogin) -> dict[str, Any]:
    dana = await new_contact(api, firm.headers, "Dana", mobile_phone=DANA)
    return dict(await new_conversation(api, firm.headers, [dana]))


async def send(api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]) -> Any:
    message = await post(
        api,
        f"/conversations/{conversation['id']}/messages",
        firm.headers,
        body="Update",
        send_as_sms=True,
    )
    return message["sms"][0]


async def ledger(ctx: ServiceContext) -> list[tuple[str, str, str]]:
    async with ctx.db.sessions() as session:
        rows = await session.execute(
            select(ConsentEvent.action, ConsentEvent.phone_number, ConsentEvent.text).order_by(
                ConsentEvent.at
            )
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_stop_opts_the_number_out_and_the_next_text_fails_at_once(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await send(api, firm, conversation)
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="Stop.")
    contact_id = conversation["participants"][0]["contact_id"]
    contact = (await api.get(f"/api/v1/contacts/{contact_id}", headers=firm.headers)).json()
    assert contact["sms_opted_out"] is True
    sms = await send(api, firm, conversation)
    assert sms["status"] == "failed"
    assert sms["error_message"].startswith("Opted out")


async def test_start_opts_back_in(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="STOP")
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body=" start ")
    assert (await send(api, firm, conversation))["status"] == "sending"
    assert await ledger(ctx) == [("opt_out", DANA, "STOP"), ("opt_in", DANA, " start ")]


async def test_a_keyword_is_never_filed_as_a_reply(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await send(api, firm, conversation)
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="unsubscribe")
    async with ctx.db.sessions() as session:
        bodies = list(await session.scalars(select(Message.body)))
    assert bodies == ["Update"]
    assert (await api.get("/api/v1/inbox", headers=firm.headers)).json()["items"] == []


async def test_a_sentence_containing_stop_is_a_reply_not_a_keyword(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await send(api, firm, conversation)
    await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="please don't stop")
    assert await ledger(ctx) == []
    listed = await api.get(
        f"/api/v1/conversations/{conversation['id']}/messages", headers=firm.headers
    )
    assert listed.json()["items"][-1]["body"] == "please don't stop"


async def test_a_repeated_stop_webhook_makes_one_ledger_row(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    for _ in range(2):
        await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="STOP", sid="SM" + "e" * 32)
    assert await ledger(ctx) == [("opt_out", DANA, "STOP")]


async def test_stop_retries_arriving_together_make_one_ledger_row_and_one_answer(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    ctx.settings.provider_answers_keywords = False
    sid = "SM" + "f" * 32
    answers = await asyncio.gather(
        *(text_in(api, ctx, from_=DANA, to=firm.sms_number, body="STOP", sid=sid) for _ in "1234")
    )
    assert [a.status_code for a in answers] == [200] * 4
    assert len({a.text for a in answers}) == 1
    assert "no more texts" in answers[0].text
    assert await ledger(ctx) == [("opt_out", DANA, "STOP")]


async def test_twilio_answers_keywords_itself_by_default(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    answer = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body="STOP")
    assert "<Message>" not in answer.text


@pytest.mark.parametrize(
    ("body", "says"),
    [("STOP", "no more texts"), ("START", "get our texts again"), ("help", "for help")],
)
async def test_we_answer_keywords_when_the_provider_does_not(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    conversation: dict[str, Any],
    body: str,
    says: str,
) -> None:
    ctx.settings.provider_answers_keywords = False
    answer = await text_in(api, ctx, from_=DANA, to=firm.sms_number, body=body)
    assert says in answer.text
    assert "Hale &amp; Marsh LLP" in answer.text

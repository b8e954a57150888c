"""A request that texts clients, sent again with its Idempotency-Key, texts no one again."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from parley.db.idempotency_keys import claim_key
from parley.db.models import IdempotencyKey
from parley.services.context import ServiceContext
from tests.conftest import StaffLogin
from tests.support.api import messages_of, new_contact, new_conversation
from tests.support.clock import TestClock

KEY = "0b9c3f3e-6a55-4c59-9a4e-4d7d0e1c2a71"


@pytest.fixture
async def conversation(api: httpx.AsyncClient, firm: StaffLogin) -> dict[str, Any]:
    dana = await new_contact(api, firm.headers, "Dana Whitfield", mobile_phone="+12025550142")
    return dict(await new_conversation(api, firm.headers, [dana]))


async def send(
    api: httpx.AsyncClient,
    firm: StaffLogin,
    conversation: dict[str, Any],
    body: str = "Hearing moved to Tuesday",
    key: str | bytes = KEY,
) -> httpx.Response:
    return await api.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"body": body, "send_as_sms": True},
        headers={**firm.headers, "Idempotency-Key": key},
    )


async def resend(
    api: httpx.AsyncClient, firm: StaffLogin, message_id: str, key: str
) -> httpx.Response:
    return await api.post(
        f"/api/v1/messages/{message_id}/resend-sms",
        headers={**firm.headers, "Idempotency-Key": key},
    )


async def texts_of(api: httpx.AsyncClient, firm: StaffLogin, message_id: str) -> int:
    message = await api.get(f"/api/v1/messages/{message_id}", headers=firm.headers)
    return len(message.json()["sms"])


async def test_a_message_sent_again_with_its_key_is_written_and_texted_once(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    first = await send(api, firm, conversation)
    again = await send(api, firm, conversation)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(await messages_of(api, firm.headers, conversation)) == 1
    assert await texts_of(api, firm, first.json()["id"]) == 1


async def test_the_same_key_with_a_different_message_is_refused_and_writes_nothing(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    await send(api, firm, conversation, "Hearing moved to Tuesday")
    refused = await send(api, firm, conversation, "Please sign page 4")

    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "different request" in error["message"]
    assert [m["body"] for m in await messages_of(api, firm.headers, conversation)] == [
        "Hearing moved to Tuesday"
    ]


async def test_two_requests_with_one_key_at_the_same_moment_send_one_message(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    first, second = await asyncio.gather(
        send(api, firm, conversation), send(api, firm, conversation)
    )

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] == second.json()["id"]
    assert len(await messages_of(api, firm.headers, conversation)) == 1
    assert await texts_of(api, firm, first.json()["id"]) == 1


async def test_a_request_waits_while_its_key_is_held_and_goes_ahead_if_the_holder_fails(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    conversation: dict[str, Any],
    clock: TestClock,
) -> None:
    async with ctx.db.sessions() as holder:
        await claim_key(holder, firm.scope.firm_id, KEY, "a request still running", clock())
        waiting = asyncio.create_task(send(api, firm, conversation))
        await asyncio.sleep(0.5)
        assert not waiting.done(), "a request with a key in use waits for its holder"
        await holder.rollback()
    sent = await waiting

    assert sent.status_code == 201
    assert "Idempotent-Replayed" not in sent.headers
    assert len(await messages_of(api, firm.headers, conversation)) == 1


async def test_a_request_that_was_refused_leaves_its_key_free_for_the_corrected_one(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    refused = await send(api, firm, conversation, body="   ")
    corrected = await send(api, firm, conversation, body="Hearing moved to Tuesday")

    assert refused.status_code == 422
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected.headers
    assert len(await messages_of(api, firm.headers, conversation)) == 1


@pytest.mark.parametrize(
    ("hours_later", "messages"),
    [(23, 1), (25, 2)],
    ids=["within a day: answered as before", "after a day: a new message"],
)
async def test_a_key_is_kept_for_a_day(
    api: httpx.AsyncClient,
    firm: StaffLogin,
    conversation: dict[str, Any],
    clock: TestClock,
    hours_later: int,
    messages: int,
) -> None:
    await send(api, firm, conversation)
    clock.advance(hours=hours_later)
    await send(api, firm, conversation)

    assert len(await messages_of(api, firm.headers, conversation)) == messages


async def test_keys_older_than_a_day_are_forgotten_when_the_firm_sends_again(
    api: httpx.AsyncClient,
    ctx: ServiceContext,
    firm: StaffLogin,
    conversation: dict[str, Any],
    clock: TestClock,
) -> None:
    await send(api, firm, conversation, key="monday")
    clock.advance(hours=25)
    await send(api, firm, conversation, key="tuesday")

    async with ctx.db.sessions() as session:
        kept = list(await session.scalars(select(IdempotencyKey.key)))
    assert kept == ["tuesday"]


async def test_one_firms_keys_never_answer_another_firms_requests(
    api: httpx.AsyncClient,
    firm: StaffLogin,
    other_firm: StaffLogin,
    conversation: dict[str, Any],
) -> None:
    theirs = await new_contact(api, other_firm.headers, "Robin Hale", mobile_phone="+12025550177")
    their_conversation = dict(await new_conversation(api, other_firm.headers, [theirs]))

    ours = await send(api, firm, conversation)
    their_message = await send(api, other_firm, their_conversation)

    assert their_message.status_code == 201
    assert "Idempotent-Replayed" not in their_message.headers
    assert their_message.json()["id"] != ours.json()["id"]
    assert their_message.json()["conversation_id"] == their_conversation["id"]


async def test_a_resend_sent_again_with_its_key_texts_once_more(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any]
) -> None:
    message = (await send(api, firm, conversation)).json()
    resent = await resend(api, firm, message["id"], "resend-1")
    again = await resend(api, firm, message["id"], "resend-1")

    assert (resent.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await texts_of(api, firm, message["id"]) == 2


@pytest.mark.parametrize(
    "key",
    ["", "k" * 256, "two words", "clé".encode()],
    ids=["empty", "longer than 255", "with a space", "not ASCII"],
)
async def test_a_key_that_is_not_1_to_255_visible_ascii_characters_is_refused(
    api: httpx.AsyncClient, firm: StaffLogin, conversation: dict[str, Any], key: str | bytes
) -> None:
    refused = await send(api, firm, conversation, key=key)

    assert refused.status_code == 422
    assert "Idempotency-Key must be 1 to 255 visible ASCII" in refused.json()["error"]["message"]
    assert await messages_of(api, firm.headers, conversation) == []


async def test_the_api_description_offers_the_key_and_names_a_replayed_answer(
    api: httpx.AsyncClient,
) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    for path in (
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/messages/{message_id}/resend-sms",
    ):
        operation = paths[path]["post"]
        assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]

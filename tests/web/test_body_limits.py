"""Oversized bodies are refused with 413 before they are read, and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from sqlalchemy import func, select

from parley.db.models import Base, Contact, InboundText
from parley.services.context import ServiceContext
from parley.web.body_limits import REPLY_PAGE_BODY_LIMIT, STAFF_BODY_LIMIT, WEBHOOK_BODY_LIMIT
from tests.conftest import StaffLogin
from tests.support.twilio_webhooks import text_in


async def stored(ctx: ServiceContext, model: type[Base]) -> int:
    async with ctx.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_oversized_inbound_webhook_is_413_and_stores_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    response = await text_in(
        api, ctx, from_="+12025550147", to=firm.sms_number, body="x" * WEBHOOK_BODY_LIMIT
    )
    assert response.status_code == 413
    assert await stored(ctx, InboundText) == 0


async def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    sent = 0

    async def endless_form() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b"MessageSid=SM1&Body="
        while sent < 10 * WEBHOOK_BODY_LIMIT:
            sent += 4096
            yield b"x" * 4096

    response = await api.post(
        "/webhooks/twilio/status",
        content=endless_form(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert sent < 2 * WEBHOOK_BODY_LIMIT  # reading stopped near the limit


async def test_an_oversized_staff_api_call_is_413_and_creates_nothing(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    response = await api.post(
        "/api/v1/contacts",
        json={"name": "n" * STAFF_BODY_LIMIT},
        headers={"Authorization": f"Bearer {firm.token}"},
    )
    assert response.status_code == 413
    assert await stored(ctx, Contact) == 0


async def test_a_webhook_within_the_limit_is_still_accepted(
    api: httpx.AsyncClient, ctx: ServiceContext, firm: StaffLogin
) -> None:
    response = await text_in(api, ctx, from_="+12025550147", to=firm.sms_number, body="Ж" * 1600)
    assert response.status_code == 200
    assert await stored(ctx, InboundText) == 1


async def test_the_413_says_in_the_usual_error_shape_how_much_is_accepted(
    api: httpx.AsyncClient, firm: StaffLogin
) -> None:
    response = await api.post(
        "/api/v1/contacts",
        content=b"{" + b" " * STAFF_BODY_LIMIT + b"}",
        headers={"Authorization": f"Bearer {firm.token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_large",
        "message": "The request body is larger than this endpoint accepts (256 KiB).",
    }


async def test_a_reply_page_post_too_large_gets_a_page_asking_to_shorten_it(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post("/r/some-token", data={"body": "x" * (REPLY_PAGE_BODY_LIMIT + 1)})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "shorten it to at most 10,000 characters" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"

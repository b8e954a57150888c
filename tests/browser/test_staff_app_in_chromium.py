"""The staff app in a real browser: what staff hands do that a test client does not."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import suppress

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Route, expect

from parley.services.staff_sessions import set_password
from tests.conftest import make_firm
from tests.support.api import messages_of, new_contact, new_conversation
from tests.support.browser import chromium
from tests.support.live import LiveSystem, live_system

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[LiveSystem]:
    async with live_system(database_url, with_dispatcher=False) as system:
        yield system


async def test_a_double_click_on_send_sends_one_message_and_one_text_each(
    live: LiveSystem,
) -> None:
    firm = await make_firm(live.ctx, "Hale & Marsh LLP", "+12025550100", "avery@h.example")
    await set_password(live.ctx, firm.scope.staff_id, PASSWORD)
    dana = await new_contact(live.api, firm.headers, "Dana Whitfield", mobile_phone="+12025550142")
    conversation = await new_conversation(live.api, firm.headers, [dana], subject="Probate")
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{live.parley_url}/app/login")
        await page.get_by_label("Email").fill("avery@h.example")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.goto(f"{live.parley_url}/app/conversations/{conversation['id']}")
        await page.get_by_label(re.compile("^Message to")).fill("Hearing moved to Tuesday")
        await page.get_by_label("Send as SMS").check()

        # Each click's POST is carried to the server by Playwright, so that both reach it
        # whatever the browser does with the first once the second is sent; the first
        # answer is held until the second click, as on a slow connection.
        reached_server: list[Route] = []
        second_sent = asyncio.Event()

        async def to_the_server(route: Route) -> None:
            reached_server.append(route)
            first = len(reached_server) == 1
            answer = await route.fetch(max_redirects=0)
            if first:
                await asyncio.wait_for(second_sent.wait(), 10)
            else:
                second_sent.set()
            with suppress(PlaywrightError):  # the browser dropped the first: expected
                await route.fulfill(response=answer)

        await page.route(re.compile(r".*/messages$"), to_the_server)
        # Two clicks 150 ms apart, as a person's double click, made by the page itself.
        await page.get_by_role("button", name="Send", exact=True).evaluate(
            "button => { button.click(); setTimeout(() => button.click(), 150); }"
        )
        await expect(page.locator(".message", has_text="Hearing moved")).to_have_count(1)
        assert len(reached_server) == 2, "both clicks' forms reached the server"

    sent = await messages_of(live.api, firm.headers, conversation)
    assert [m["body"] for m in sent] == ["Hearing moved to Tuesday"]
    assert len(sent[0]["sms"]) == 1

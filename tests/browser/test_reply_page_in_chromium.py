"""The reply page in a real browser at phone width, with and without JavaScript."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import make_firm
from tests.support.api import new_contact, new_conversation, post
from tests.support.browser import chromium, screenshot_path
from tests.support.links import reply_tokens
from tests.support.live import LiveSystem, live_system

pytestmark = pytest.mark.browser

LONG = ("We have now received the signed probate documents from the court. " * 12).strip()


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[LiveSystem]:
    async with live_system(database_url, with_dispatcher=False) as system:
        yield system


async def reply_link(live: LiveSystem) -> tuple[str, dict[str, Any], dict[str, str]]:
    """A conversation with a long message and a text to Dana; her link, it, staff headers."""
    firm = await make_firm(live.ctx, "Hale & Marsh LLP", "+12025550100", "a@h.example")
    dana = await new_contact(live.api, firm.headers, "Dana Whitfield", mobile_phone="+12025550142")
    conversation = await new_conversation(live.api, firm.headers, [dana], subject="Probate")
    path = f"/conversations/{conversation['id']}/messages"
    await post(live.api, path, firm.headers, body=LONG)
    message = await post(
        live.api,
        path,
        firm.headers,
        body="Could you confirm the hearing date works?",
        send_as_sms=True,
    )
    token = (await reply_tokens(live.ctx, message["id"]))[dana["id"]]
    return f"{live.parley_url}/r/{token}", conversation, firm.headers


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_the_reply_page_reads_and_answers_at_360px(
    live: LiveSystem, javascript: bool, database_url: str
) -> None:
    url, conversation, staff = await reply_link(live)
    async with chromium() as browser:
        page = await browser.new_page(
            viewport={"width": 360, "height": 740},
            java_script_enabled=javascript,
            device_scale_factor=2,
        )
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        await page.goto(url)
        assert (
            await page.evaluate("document.documentElement.scrollWidth") <= 360
            if javascript
            else True
        )
        await page.get_by_text("Show more").first.click()
        assert await page.get_by_text("from the court.", exact=False).first.is_visible()
        kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        if javascript:
            await page.screenshot(path=screenshot_path(f"reply-page-360-{kind}"), full_page=True)
        await page.get_by_label("Your reply to Hale & Marsh LLP").fill("Yes, Tuesday works.")
        await page.get_by_role("button", name="Send reply").click()
        await page.get_by_text("Your reply has been sent").wait_for()
        if javascript:
            await page.screenshot(path=screenshot_path(f"reply-sent-360-{kind}"), full_page=True)
        assert all(r.startswith(live.parley_url) for r in requests), "no external requests"
    listed = await live.api.get(
        f"/api/v1/conversations/{conversation['id']}/messages", headers=staff
    )
    reply = listed.json()["items"][-1]
    assert (reply["body"], reply["channel"]) == ("Yes, Tuesday works.", "quick_link")


async def test_the_page_weighs_under_50_kb(live: LiveSystem) -> None:
    url, _, _ = await reply_link(live)
    page = await live.api.get(url, headers={"User-Agent": "Mozilla/5.0 Safari"})
    css = await live.api.get("/static/parley.css")
    assert len(page.content) + len(css.content) < 50_000

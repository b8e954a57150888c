"""Script payloads in names, titles and message bodies run nowhere, in a real Chromium.

Every place where a person's words are shown gets words that are also markup: the
staff app's list, thread (also as it is re-rendered live when a text arrives) and
inbox, and the client's reply page. The pages must show the words as written and
run none of them; each payload would set `window.__xss` if it ever ran.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from parley.services.firms import create_firm
from tests.support.api import new_contact, new_conversation, post
from tests.support.browser import chromium
from tests.support.links import reply_tokens
from tests.support.live import LiveSystem, live_system
from tests.support.twilio_webhooks import text_in

pytestmark = pytest.mark.browser

FIRM_NUMBER, DANA, STRANGER = "+12025550100", "+12025550142", "+12025550199"
EMAIL, PASSWORD = "avery@halemarsh.example", "correct horse battery"

NAME = "<img src=x onerror=\"window.__xss='name'\">Dana"
TITLE = "<script>window.__xss='title'</script>Estate"
SUBJECT = '"><svg onload="window.__xss=\'subject\'">Probate'
BODY = "<script>window.__xss='body'</script>Please sign & return"
REPLY = "<img src=x onerror=\"window.__xss='reply'\">Signed it"
HELD = "<iframe srcdoc=\"<script>parent.__xss='held'</script>\"></iframe>Who is this?"


@pytest.fixture
async def live(database_url: str) -> AsyncIterator[LiveSystem]:
    async with live_system(database_url) as system:
        yield system


async def no_payload_ran(page: Page) -> None:
    assert await page.evaluate("window.__xss") is None
    injected = "img[src='x'], svg[onload], iframe[srcdoc], script:not([src])"
    assert await page.locator(injected).count() == 0


async def test_payloads_are_shown_as_text_and_never_run(live: LiveSystem) -> None:
    created = await create_firm(
        live.ctx,
        name="Hale & Marsh LLP",
        sms_numbers=[FIRM_NUMBER],
        staff_email=EMAIL,
        staff_password=PASSWORD,
    )
    staff = {"Authorization": f"Bearer {created.api_token}"}
    dana = await new_contact(live.api, staff, NAME, mobile_phone=DANA)
    conversation = await new_conversation(live.api, staff, [dana], subject=SUBJECT, title=TITLE)
    message = await post(
        live.api,
        f"/conversations/{conversation['id']}/messages",
        staff,
        body=BODY,
        send_as_sms=True,
    )
    token = (await reply_tokens(live.ctx, message["id"]))[dana["id"]]
    await text_in(live.api, live.ctx, from_=STRANGER, to=FIRM_NUMBER, body=HELD)

    async with chromium() as browser:
        page = await browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))

        await page.goto(f"{live.parley_url}/app")
        await page.get_by_label("Email").fill(EMAIL)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_text(SUBJECT).first).to_be_visible()
        await no_payload_ran(page)

        await page.get_by_text(SUBJECT).first.click()
        await expect(page.get_by_text(BODY)).to_be_visible()
        await expect(page.get_by_text(NAME).first).to_be_visible()
        await no_payload_ran(page)

        # Arrives while the thread is open: the live update re-renders the thread.
        await text_in(live.api, live.ctx, from_=DANA, to=FIRM_NUMBER, body=REPLY)
        await expect(page.get_by_text(REPLY)).to_be_visible(timeout=15_000)
        await no_payload_ran(page)

        await page.goto(f"{live.parley_url}/app/inbox")
        await expect(page.get_by_text(HELD)).to_be_visible()
        await no_payload_ran(page)

        await page.goto(f"{live.parley_url}/r/{token}")
        await expect(page.get_by_text(BODY)).to_be_visible()
        await expect(page.get_by_text(REPLY)).to_be_visible()
        await no_payload_ran(page)
        assert dialogs == []

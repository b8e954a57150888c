"""The demo as a newcomer meets it, in Chromium: every step of issue 6, with screenshots.

It runs the demo's own configuration (SQLite, the simulator mounted at /sim, the
dispatcher in-process, the seeded firm), so it is SQLite only by design.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from parley.db.engine import Database
from parley.services.context import ServiceContext
from parley.services.demo_seed import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, seed_demo
from parley.settings import Settings
from parley.web.app import create_app
from tests.support.browser import chromium, screenshot_path
from tests.support.databases import fresh_sqlite
from tests.support.servers import reserve_port, serve, url_of

pytestmark = pytest.mark.browser

DANA, LEE = "+12025550142", "+12025550143"


@pytest.fixture
async def demo(_sqlite_template: Path, tmp_path: Path) -> AsyncIterator[str]:
    sock = reserve_port()
    settings = Settings(
        database_url=fresh_sqlite(_sqlite_template, tmp_path),
        public_url=url_of(sock),
        sms_provider="simulator",
    )
    ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
    await seed_demo(ctx)
    app = create_app(ctx=ctx, with_dispatcher=True, with_simulator=True)
    async with serve(app, sock) as url:
        yield url
    await ctx.db.dispose()


async def shot(page: Page, name: str) -> None:
    await page.screenshot(path=screenshot_path(f"newcomer-{name}"), full_page=True)


def phone(page: Page, number: str):  # type: ignore[no-untyped-def]
    return page.locator(f'[data-phone="{number}"]')


async def test_a_newcomer_can_walk_the_whole_product(demo: str) -> None:
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 860})

        await page.goto(f"{demo}/app")
        await page.get_by_label("Email").fill(DEMO_STAFF_EMAIL)
        await page.get_by_label("Password").fill(DEMO_STAFF_PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("link", name=re.compile("Probate documents")).click()
        await expect(page.get_by_role("heading", name="Probate documents")).to_be_visible()
        await shot(page, "01-messages-tab")

        await page.get_by_label(re.compile("^Message to")).fill(
            "The court has approved the probate filing. Please look over the summary."
        )
        await page.get_by_label("Send as SMS").check()
        await expect(page.locator("#counter")).to_contain_text("SMS segment")
        await shot(page, "02-compose")
        await page.get_by_role("button", name="Send", exact=True).click()
        latest = page.locator(".message").last
        await expect(latest.locator(".badge.delivered")).to_have_count(2, timeout=20_000)
        await shot(page, "03-delivered")

        await page.goto(f"{demo}/sim/phones")
        link = phone(page, DANA).locator(".texts li").last.locator("a")
        await expect(link).to_have_count(1, timeout=10_000)
        await shot(page, "04-phones")
        await page.goto(await link.get_attribute("href") or "")
        await expect(page.get_by_text("court has approved")).to_be_visible()
        await page.get_by_label(re.compile("Your reply")).fill("Thank you, I will read it tonight.")
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.get_by_text("Your reply has been sent")).to_be_visible()
        await shot(page, "05-reply-page")

        await page.goto(f"{demo}/sim/phones")
        lee = phone(page, LEE)
        await lee.get_by_label(re.compile("^Text ")).fill("Got it, thanks!")
        await lee.get_by_role("button", name="Send text").click()

        await page.goto(f"{demo}/app")
        await page.get_by_role("link", name=re.compile("Probate documents")).click()
        quick = page.locator(".message.channel-quick_link")
        await expect(quick.get_by_text("via quick link")).to_be_visible()
        sms = page.locator(".message.channel-sms")
        await expect(sms.get_by_text("via SMS")).to_be_visible()
        await sms.get_by_text("Show original message").click()
        await expect(sms.locator(".original blockquote")).to_contain_text("court has approved")
        await shot(page, "06-replies-in-staff-view")

        await page.goto(f"{demo}/sim/phones")
        dana = phone(page, DANA)
        await dana.get_by_label(re.compile("^Text ")).fill("Is this about the house or the estate?")
        await dana.get_by_role("button", name="Send text").click()
        await expect(phone(page, DANA).locator(".texts li").last).to_contain_text(
            "could not be delivered", timeout=10_000
        )
        await shot(page, "07-blocked-reply-notice")

        await page.goto(f"{demo}/app/inbox")
        held = page.locator(".held-item").first
        await expect(held).to_contain_text("Several conversations texted this client")
        await shot(page, "08-inbox")
        await held.get_by_label("File into conversation").select_option(
            label="Whitfield estate · Probate documents"
        )
        await held.get_by_role("button", name="File into conversation").click()
        await expect(page.get_by_text("Is this about the house or the estate?")).to_be_visible()
        await shot(page, "09-filed")

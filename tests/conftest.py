"""Fixtures shared by every test: both databases, a service context, the API client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from parley.db.engine import Database
from parley.services.context import FirmScope, ServiceContext
from parley.services.firms import create_firm
from parley.services.reply_page import finish_recording_openings
from parley.settings import Settings
from parley.web.app import create_app
from tests.support.browser import SCREENSHOTS
from tests.support.clock import TestClock
from tests.support.databases import (
    empty_postgres,
    fresh_sqlite,
    postgres_database,
    sqlite_template,
)
from tests.support.fuzzing import load_fuzz_profile

PUBLIC_URL = "http://parley.test"


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with sqlite_template(tmp_path_factory.mktemp("sqlite-template")) as path:
        yield path


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind; every database test runs on both."""
    if request.param == "sqlite":
        return fresh_sqlite(request.getfixturevalue("_sqlite_template"), tmp_path)
    url: str = request.getfixturevalue("_postgres_url")
    asyncio.run(empty_postgres(url))
    return url


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, public_url=PUBLIC_URL)


@pytest.fixture
async def ctx(settings: Settings, clock: TestClock) -> AsyncIterator[ServiceContext]:
    db = Database(settings.database_url)
    service = ServiceContext(settings=settings, db=db, clock=clock)
    yield service
    await finish_recording_openings(service)  # as the app does when it stops
    await db.dispose()


@pytest.fixture
def app(ctx: ServiceContext) -> FastAPI:
    return create_app(ctx=ctx)


@pytest.fixture
async def api(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as client:
        yield client


@dataclass(frozen=True)
class StaffLogin:
    scope: FirmScope
    token: str
    sms_number: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_firm(ctx: ServiceContext, name: str, sms_number: str, email: str) -> StaffLogin:
    created = await create_firm(ctx, name=name, sms_numbers=[sms_number], staff_email=email)
    return StaffLogin(FirmScope(created.firm_id, created.staff_id), created.api_token, sms_number)


@pytest.fixture
async def firm(ctx: ServiceContext) -> StaffLogin:
    return await make_firm(ctx, "Hale & Marsh LLP", "+12025550100", "avery@halemarsh.example")


@pytest.fixture
async def other_firm(ctx: ServiceContext) -> StaffLogin:
    return await make_firm(ctx, "Other & Co", "+12025550200", "sam@other.example")


def pytest_configure(config: pytest.Config) -> None:
    load_fuzz_profile()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"Screenshots of the pages under test: {SCREENSHOTS}")

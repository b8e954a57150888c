"""A dispatcher hears of texts queued by other processes, and keeps hearing after a cut.

PostgreSQL only: on SQLite one process does all the writing and wakes itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from parley.db.deliveries import WAKE_CHANNEL
from parley.dispatch.wakeup import listen_for_queued_texts
from tests.support.live import eventually


@pytest.fixture
async def other_process(_postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own, as `parley serve` would hold when it queues a text."""
    connection = await asyncpg.connect(_postgres_url)
    yield connection
    await connection.close()


async def listening_backends(connection: asyncpg.Connection) -> set[int]:
    rows = await connection.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()"
    )
    return {row["pid"] for row in rows}


async def new_listener(connection: asyncpg.Connection, known: set[int]) -> int:
    """The backend that starts listening, other than those `known`."""
    found: set[int] = set()

    async def listening() -> bool:
        found.update(await listening_backends(connection) - known)
        return bool(found)

    await eventually(listening, within=10)
    (listener,) = found
    return listener


@asynccontextmanager
async def dispatcher_listening(
    url: str, other: asyncpg.Connection
) -> AsyncIterator[tuple[asyncio.Event, int]]:
    """Listening, with the event that wakes the dispatcher (clear) and its backend."""
    wakeup = asyncio.Event()
    before = await listening_backends(other)
    async with listen_for_queued_texts(url, wakeup):
        listener = await new_listener(other, before)
        wakeup.clear()
        yield wakeup, listener


async def test_a_text_queued_elsewhere_wakes_the_dispatcher(
    _postgres_url: str, other_process: asyncpg.Connection
) -> None:
    async with dispatcher_listening(_postgres_url, other_process) as (wakeup, _):
        await other_process.execute(f"NOTIFY {WAKE_CHANNEL}")
        await asyncio.wait_for(wakeup.wait(), 10)


async def test_the_dispatcher_listens_again_once_its_connection_is_cut(
    _postgres_url: str, other_process: asyncpg.Connection
) -> None:
    async with dispatcher_listening(_postgres_url, other_process) as (wakeup, listener):
        known = await listening_backends(other_process)
        # As a restart or a failover would: PostgreSQL ends the session.
        await other_process.execute("SELECT pg_terminate_backend($1)", listener)
        # Back, it wakes the dispatcher for texts queued while no one listened ...
        await asyncio.wait_for(wakeup.wait(), 10)
        await new_listener(other_process, known)
        wakeup.clear()
        # ... and hears of every text queued from then on.
        await other_process.execute(f"NOTIFY {WAKE_CHANNEL}")
        await asyncio.wait_for(wakeup.wait(), 10)

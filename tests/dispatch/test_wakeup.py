"""A dispatcher hears of texts queued by other processes, and keeps hearing after a cut.

PostgreSQL only: on SQLite one process does all the writing and wakes itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

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


async def test_a_text_queued_elsewhere_wakes_the_dispatcher(
    _postgres_url: str, other_process: asyncpg.Connection
) -> None:
    wakeup = asyncio.Event()
    before = await listening_backends(other_process)
    async with listen_for_queued_texts(_postgres_url, wakeup):

        async def listening() -> bool:
            return bool(await listening_backends(other_process) - before)

        await eventually(listening, within=10)
        wakeup.clear()
        await other_process.execute(f"NOTIFY {WAKE_CHANNEL}")
        await asyncio.wait_for(wakeup.wait(), 10)


async def test_the_dispatcher_listens_again_once_its_connection_is_cut(
    _postgres_url: str, other_process: asyncpg.Connection
) -> None:
    wakeup = asyncio.Event()
    before = await listening_backends(other_process)
    async with listen_for_queued_texts(_postgres_url, wakeup):
        await asyncio.wait_for(wakeup.wait(), 10)
        (listener,) = await listening_backends(other_process) - before
        wakeup.clear()

        # As a restart or a failover would: PostgreSQL ends the session.
        await other_process.execute("SELECT pg_terminate_backend($1)", listener)
        # Back, it wakes the dispatcher for texts queued while no one listened ...
        await asyncio.wait_for(wakeup.wait(), 10)

        async def listening_on_a_new_connection() -> bool:
            return bool(await listening_backends(other_process) - before - {listener})

        await eventually(listening_on_a_new_connection, within=10)
        wakeup.clear()
        # ... and hears of every text queued from then on.
        await other_process.execute(f"NOTIFY {WAKE_CHANNEL}")
        await asyncio.wait_for(wakeup.wait(), 10)

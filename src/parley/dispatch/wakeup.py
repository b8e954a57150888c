"""Waking dispatchers the moment texts are queued, across processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import asyncpg

from parley.db.deliveries import WAKE_CHANNEL

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.5
LONGEST_RETRY_SECONDS = 30.0
# Connecting or listening failed: the server is away, starting up, or refusing us.
_CANNOT_LISTEN = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)  # timeouts are OSErrors


@asynccontextmanager
async def listen_for_queued_texts(database_url: str, wakeup: asyncio.Event) -> AsyncIterator[None]:
    """LISTEN on PostgreSQL; on SQLite (one process writes) the in-process event suffices."""
    if not database_url.startswith(("postgresql", "postgres")):
        yield
        return
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    listening = asyncio.create_task(_keep_listening(dsn, wakeup))
    try:
        yield
    finally:
        listening.cancel()
        with suppress(asyncio.CancelledError):
            await listening


async def _keep_listening(dsn: str, wakeup: asyncio.Event) -> None:
    """Listen, and listen again on a new connection whenever one is lost.

    A restart or failover closes the connection without a word to the dispatcher, which
    would then find queued texts only when its poll came round: every text a poll
    interval late, for the life of the process.
    """
    retry = FIRST_RETRY_SECONDS
    while True:
        try:
            await _listen_until_lost(dsn, wakeup)
            log.warning("the LISTEN connection was lost; connecting again")
            retry = FIRST_RETRY_SECONDS
        except _CANNOT_LISTEN as error:
            log.warning(
                "cannot LISTEN for queued texts (%s); polling, trying again in %.1f s",
                error,
                retry,
            )
        await asyncio.sleep(retry)
        retry = min(retry * 2, LONGEST_RETRY_SECONDS)


async def _listen_until_lost(dsn: str, wakeup: asyncio.Event) -> None:
    lost = asyncio.Event()
    connection = await asyncpg.connect(dsn)
    try:
        connection.add_termination_listener(lambda _: lost.set())
        await connection.add_listener(WAKE_CHANNEL, lambda *_: wakeup.set())
        # Texts queued while no one listened were announced to no one.
        wakeup.set()
        await lost.wait()
    finally:
        connection.terminate()

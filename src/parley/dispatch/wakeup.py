"""Waking dispatchers the moment texts are queued, across processes on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from parley.db.deliveries import WAKE_CHANNEL

log = logging.getLogger(__name__)


@asynccontextmanager
async def listen_for_queued_texts(database_url: str, wakeup: asyncio.Event) -> AsyncIterator[None]:
    """LISTEN on PostgreSQL; on SQLite (one process writes) the in-process event suffices."""
    if not database_url.startswith(("postgresql", "postgres")):
        yield
        return
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        connection = await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError) as error:
        # Polling still finds the work, only a little later.
        log.warning("cannot LISTEN for queued texts (%s); polling instead", error)
        yield
        return

    def wake(*_: Any) -> None:
        wakeup.set()

    await connection.add_listener(WAKE_CHANNEL, wake)
    try:
        yield
    finally:
        connection.terminate()

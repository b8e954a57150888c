"""A request cancelled in the middle of a statement (a page left while it loads, a live
update whose browser went away) must not leave the database locked for everyone else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from parley.db.engine import Database

# Long enough to be cancelled while it runs (about a second), and it yields a row that
# leaves the statement pending: SQLite keeps a closed connection's transaction while
# one is.
_SLOW_READ = {
    True: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
    "SELECT count(*) FROM n",
    False: "SELECT pg_sleep(1)",
}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def test_a_transaction_cancelled_mid_statement_leaves_the_database_free(
    db: Database,
) -> None:
    running = asyncio.Event()

    async def slow_read() -> None:
        async with db.core_transaction() as connection:
            running.set()
            await connection.execute(text(_SLOW_READ[db.is_sqlite]))

    reading = asyncio.create_task(slow_read())
    await running.wait()
    await asyncio.sleep(0.1)  # into the statement
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading

    # A lock left behind by the cancelled read makes SQLite refuse this once its busy
    # timeout runs out ("database is locked").
    async with db.core_transaction() as connection:
        assert await connection.scalar(text("SELECT 1")) == 1

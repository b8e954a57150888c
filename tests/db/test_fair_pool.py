"""Connections from the pool: at once when one is idle, else in the order asked.

PostgreSQL only: SQLite runs in-process, without a pool of connections to wait for.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from parley.db.engine import Database
from parley.db.fair_pool import FairPool
from parley.settings import to_async_url


@pytest.fixture
async def one_connection(_postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(
        to_async_url(_postgres_url),
        poolclass=FairPool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
    )
    yield engine
    await engine.dispose()


async def settle() -> None:
    """Long enough for every task started to reach its wait for a connection."""
    await asyncio.sleep(0.05)


async def test_a_connection_given_back_goes_to_the_longest_waiter(
    one_connection: AsyncEngine,
) -> None:
    served: list[str] = []

    async def request(name: str) -> None:
        connection = await one_connection.raw_connection()
        served.append(name)
        await asyncio.sleep(0.01)
        connection.close()

    holder = await one_connection.raw_connection()
    waiting = [asyncio.create_task(request(name)) for name in ("first", "second", "third")]
    await settle()
    holder.close()
    # Asks the very moment the connection comes back, before the first waiter has run:
    # it must not take the connection from under the three already waiting.
    await request("latecomer")
    await asyncio.gather(*waiting)
    assert served == ["first", "second", "third", "latecomer"]


async def test_a_request_that_waits_too_long_is_refused_and_loses_no_connection(
    one_connection: AsyncEngine,
) -> None:
    holder = await one_connection.raw_connection()
    with pytest.raises(PoolTimeout):
        await one_connection.raw_connection()
    holder.close()
    again = await one_connection.raw_connection()  # at once: nothing was lost
    again.close()
    assert one_connection.sync_engine.pool.checkedin() == 1  # type: ignore[attr-defined]


async def test_a_connection_handed_to_a_request_cancelled_meanwhile_goes_to_the_next(
    one_connection: AsyncEngine,
) -> None:
    holder = await one_connection.raw_connection()
    cancelled = asyncio.create_task(one_connection.raw_connection())
    await settle()
    next_in_line = asyncio.create_task(one_connection.raw_connection())
    await settle()
    holder.close()  # handed to the first waiter, which is cancelled before it runs
    cancelled.cancel()
    connection = await asyncio.wait_for(next_in_line, 1)
    connection.close()
    assert cancelled.cancelled()
    assert one_connection.sync_engine.pool.checkedin() == 1  # type: ignore[attr-defined]


async def backend_of(db: Database) -> int:
    async with db.driver_connection() as connection:
        pid: int = await connection.fetchval("SELECT pg_backend_pid()")
    return pid


async def terminate(url: str, backend: int) -> None:
    other = Database(url)
    try:
        async with other.statements() as statements:
            # Waiting (up to 10 s) until the backend has gone: on a busy machine it
            # could still be going when the test's next statement reached it.
            await statements.row(select(func.pg_terminate_backend(backend, 10_000)), {})
    finally:
        await other.dispose()
    await asyncio.sleep(0.2)  # for the pool's connection to learn it is closed


async def test_an_idle_open_connection_is_handed_out_at_once(_postgres_url: str) -> None:
    # Without a greenlet (the cost it spares is in bench/README.md): what the pool's
    # internals this leans on must still be there for it to happen.
    db = Database(_postgres_url, pool_size=1)
    try:
        idle = await backend_of(db)
        pool = db.engine.sync_engine.pool
        assert isinstance(pool, FairPool)
        pooled = pool.connect_at_once()
        assert pooled is not None
        try:
            assert await pooled.driver_connection.fetchval("SELECT pg_backend_pid()") == idle
            assert pool.connect_at_once() is None  # none idle now: the usual checkout waits
        finally:
            pooled.close()
    finally:
        await db.dispose()


@pytest.mark.filterwarnings("error")
async def test_an_idle_connection_the_server_dropped_is_replaced_without_error(
    _postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(_postgres_url, pool_size=1)
    try:
        dropped = await backend_of(db)
        await terminate(_postgres_url, dropped)
        assert await backend_of(db) != dropped
        assert db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.dispose()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_idle_connections_are_opened_again_once_one_is_found_lost(
    _postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A statement on a lost connection makes SQLAlchemy open every pooled connection
    # again: one still idle and open is then replaced at its next checkout, opened
    # as any other (no connection begun and dropped unawaited on the way).
    db = Database(_postgres_url, pool_size=2)
    try:
        async with db.engine.connect() as lost:
            idle = await backend_of(db)
            lost_backend = (await lost.execute(select(func.pg_backend_pid()))).scalar_one()
            await terminate(_postgres_url, lost_backend)
            with pytest.raises(DBAPIError):
                await lost.execute(select(1))
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            assert await backend_of(db) != idle
            gc.collect()
        assert not [w for w in warned if "never awaited" in str(w.message)]
        assert db.engine.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        await db.dispose()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

"""The database handle: one engine, and transactions for the use cases to own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from parley.settings import to_async_url


class Database:
    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        async_url = to_async_url(url)
        self.is_sqlite = async_url.startswith("sqlite")
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            # Pre-ping costs a round trip per checkout (about 4 % of a status callback,
            # measured in bench/) and buys recovery after a PostgreSQL restart without
            # failing the first request on each stale connection.
            options = {"pool_size": pool_size, "max_overflow": pool_size, "pool_pre_ping": True}
        self.engine: AsyncEngine = create_async_engine(async_url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def core_transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction on a bare connection, for Core statements on the hottest paths."""
        async with self.engine.begin() as connection:
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()


# Connection lost or refused, or the server shutting down or starting up.
_AWAY = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)


def is_database_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database is away (restarting, unreachable), not a bug."""
    if isinstance(error, DBAPIError) and (
        error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))
    ):
        return True
    cause: BaseException | None = error
    while cause is not None:  # SQLAlchemy wraps the driver's error, which wraps the socket's
        if isinstance(cause, _AWAY):
            return True
        cause = cause.__cause__
    return False


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers work while the dispatcher writes; the busy timeout makes a second
    # writer wait its turn instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()

"""The database handle: one engine, and transactions for the use cases to own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

import asyncpg
from asyncpg.transaction import Transaction
from sqlalchemy import Connection, Executable, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from parley.db.fair_pool import FairPool
from parley.db.statements import CoreStatements, DriverStatements, Statements
from parley.settings import to_async_url


class Database:
    def __init__(self, url: str, *, pool_size: int = 40) -> None:
        async_url = to_async_url(url)
        self.is_sqlite = async_url.startswith("sqlite")
        options: dict[str, Any] = {}
        if not self.is_sqlite:
            options = {"poolclass": FairPool, "pool_size": pool_size, "max_overflow": 0}
        self.engine: AsyncEngine = create_async_engine(async_url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_writing)
            event.listen(self.engine.sync_engine.pool, "invalidate", _sqlite_roll_back_first)
        else:
            event.listen(self.engine.sync_engine.pool, "checkout", _refuse_closed_connection)
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

    @asynccontextmanager
    async def driver_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """asyncpg's own connection from the pool (PostgreSQL only), outside any transaction.

        Checked out of the pool directly: an SQLAlchemy Connection around it cost three
        greenlet switches per use, a tenth of a status callback. An idle connection is
        taken without any (FairPool.connect_at_once). SQLAlchemy never starts a
        transaction on it, so giving it back (a rollback that has nothing to do) needs
        no await.
        """
        pool = self.engine.sync_engine.pool  # read each time: dispose() makes a new one
        assert isinstance(pool, FairPool)  # PostgreSQL's
        pooled = pool.connect_at_once() or await self._connect_or_wait()
        connection: asyncpg.Connection = pooled.driver_connection
        try:
            yield connection
        except (asyncpg.InterfaceError, asyncpg.InternalClientError) as error:
            # asyncpg calls a statement or COMMIT on a connection PostgreSQL dropped a
            # misuse ("connection is closed"): it is the database going away, said so.
            if not connection.is_closed():
                raise
            raise asyncpg.ConnectionDoesNotExistError("PostgreSQL closed the connection") from error
        finally:
            pooled.close()

    async def _connect_or_wait(self) -> PoolProxiedConnection:
        try:
            return await self.engine.raw_connection()
        except self.engine.dialect.loaded_dbapi.Error as error:
            # Wrapped as engine.connect() would: the wrapper is what the error handlers
            # and is_database_unavailable know (a restart refuses connections a while).
            raise DBAPIError(None, None, error) from error

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[Statements]:
        """Statements that each commit on their own, at the least cost per statement.

        For reads that need no common snapshot and writes that are one statement, on
        the busiest paths: on PostgreSQL on asyncpg's own connection (db/statements.py),
        with no BEGIN and COMMIT round trips. SQLite, in-process, has none to save, and
        keeps its transaction (and its write lock, see below).
        """
        if self.is_sqlite:
            async with self.core_transaction() as connection:
                yield CoreStatements(connection)
            return
        async with self.driver_connection() as connection:
            yield DriverStatements(connection)

    @asynccontextmanager
    async def statements_in_transaction(self) -> AsyncIterator[Statements]:
        """One transaction, its statements at the least cost (see `statements`)."""
        if self.is_sqlite:
            async with self.core_transaction() as connection:
                yield CoreStatements(connection)
            return
        async with self.driver_connection() as connection:
            transaction = connection.transaction()
            await transaction.start()
            try:
                yield DriverStatements(connection)
            except BaseException:
                await _roll_back(connection, transaction)
                raise
            await transaction.commit()

    async def run_for_each(
        self, each: Executable, together: str, rows: Sequence[NamedTuple]
    ) -> None:
        """One write for every row, committed together: on PostgreSQL the one statement
        `together`, given the rows as one JSON array of arrays (`$1`); on SQLite, which
        has no round trips to save, `each` with every row's fields, in one transaction.

        JSON rather than arrays: PostgreSQL would plan an array statement anew for each
        length (services/delivery_updates.py).
        """
        if self.is_sqlite:
            async with self.core_transaction() as connection:
                for row in rows:
                    await connection.execute(each, row._asdict())
            return
        document = json.dumps([list(row) for row in rows], default=str)
        async with self.driver_connection() as connection:
            await connection.execute(together, document)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _roll_back(connection: asyncpg.Connection, transaction: Transaction) -> None:
    """Roll back, or drop a connection that cannot: the pool must never hand out one still
    inside this transaction, and the error that ended it is the one to report."""
    if connection.is_closed():
        return  # PostgreSQL rolled back what the lost connection was doing
    try:
        await transaction.rollback()
    except Exception:  # lost just now, or still busy with the statement that failed
        connection.terminate()


# Connection lost or refused, the server shutting down or starting up, or every pooled
# connection busy for the pool's whole timeout. (asyncpg's own errors arrive unwrapped
# from the status-callback path, which runs on the driver's connection.)
_AWAY = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.ConnectionDoesNotExistError,
    PoolTimeout,
)


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


def _refuse_closed_connection(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    # asyncpg marks a connection closed as soon as the server drops it (a restart), so
    # this catches stale connections without the three round trips of SQLAlchemy's
    # pre-ping (BEGIN, a ping, ROLLBACK: a third of a status callback's database time).
    # The pool then opens a fresh one.
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("PostgreSQL closed this connection")


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers work while the dispatcher writes; the busy timeout makes a second
    # writer wait its turn instead of failing at once.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
    # The driver would start transactions only at the first write, so a read meant to
    # lock (SELECT … FOR UPDATE, which SQLite ignores) ran outside them and two callbacks
    # could each overwrite the other's status. _sqlite_begin_writing starts them instead.
    dbapi_connection.isolation_level = None


def _sqlite_roll_back_first(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _error: BaseException | None
) -> None:
    # A task cancelled mid-statement (a page left while it loads, a live update whose
    # browser went away) has its connection invalidated and closed at once, without a
    # rollback: SQLAlchemy cannot await then. SQLite keeps a connection closed with a
    # statement still pending alive, its transaction and write lock with it, until that
    # statement is garbage-collected: every other transaction waited out the busy
    # timeout and failed ("database is locked"). A ROLLBACK queued on the connection's
    # own thread, ahead of the close, frees the lock at once. (aiosqlite's queue, as
    # pinned in requirements.lock: it has no public way to queue a call without awaiting.)
    driver = dbapi_connection.driver_connection
    if driver._connection is not None:
        driver._tx.put_nowait((None, driver._connection.rollback))


def _sqlite_begin_writing(connection: Connection) -> None:
    # IMMEDIATE takes SQLite's one write lock at BEGIN: transactions, reading ones too,
    # run one after another, which is what FOR UPDATE promises on PostgreSQL. Right for
    # the embedded database of the demo and small firms; many writers want PostgreSQL.
    connection.exec_driver_sql("BEGIN IMMEDIATE")

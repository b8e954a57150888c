"""A connection pool that serves the requests waiting for a connection in turn.

SQLAlchemy's asyncio pool keeps its idle connections in an `asyncio.Queue`. When a
connection comes back, the queue wakes the longest waiter, but the connection stays
in the queue until that waiter runs; a request asking meanwhile takes it first, and
the waiter, finding the queue empty again, goes to the back of the line. With 64
requests sharing 8 connections for 3 s (`python -m bench.pool_fairness`): when each
asks again the moment it gives one back, as a use case with two statements in turn
does, the same 8 kept them all along while the other 56 waited the whole 3 s; when
each asks after a turn of the event loop, the slowest hundredth waited 35 ms and the
slowest of all 68 ms, against 18 and 27 ms here.

Here a returning connection is handed straight to the longest waiter, and a request
takes an idle connection only when nobody is waiting, so connections go out in the
order they were asked for. Such a request takes it without SQLAlchemy's greenlet
(`FairPool.connect_at_once`).

Both lean on SQLAlchemy's pool from inside (its queue class, its `_pool` and
`_invalidate_time`, as pinned in requirements.lock); tests/db/test_fair_pool.py fails
if a new version changes them.
"""

from __future__ import annotations

import asyncio
from collections import deque

from sqlalchemy.exc import MissingGreenlet
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_
from sqlalchemy.util.queue import Empty, Full, QueueCommon


class FairQueue(QueueCommon[ConnectionPoolEntry]):
    """First come, first served: waiters are served before newcomers."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        self.maxsize = maxsize
        self.use_lifo = use_lifo
        self._idle: deque[ConnectionPoolEntry] = deque()
        # Never both non-empty: a connection put back goes to a waiter if there is one.
        self._waiters: deque[asyncio.Future[ConnectionPoolEntry]] = deque()

    def empty(self) -> bool:
        return not self._idle

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._idle)

    def qsize(self) -> int:
        return len(self._idle)

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that gave up (timed out, cancelled) is skipped
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._idle.append(item)

    def put(
        self, item: ConnectionPoolEntry, block: bool = True, timeout: float | None = None
    ) -> None:
        # The pool only ever gives back connections it counted out: there is room.
        self.put_nowait(item)

    def get_nowait(self) -> ConnectionPoolEntry:
        if not self._idle:
            raise Empty()
        return self._idle.pop() if self.use_lifo else self._idle.popleft()

    def next_idle(self) -> ConnectionPoolEntry | None:
        """The connection get_nowait() would give, left where it is."""
        if not self._idle:
            return None
        return self._idle[-1] if self.use_lifo else self._idle[0]

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        if self._idle or not block:
            return self.get_nowait()
        return await_(self._wait(timeout))

    async def _wait(self, seconds: float | None) -> ConnectionPoolEntry:
        # In line from here: nothing else runs between the check above and this.
        waiter: asyncio.Future[ConnectionPoolEntry] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                return await waiter
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():
                # Handed a connection just as the request gave up (timed out, or was
                # cancelled): the next in line gets it, it is never lost.
                self.put_nowait(waiter.result())
            if isinstance(error, TimeoutError):
                raise Empty() from error
            raise


class FairPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, on the first-come, first-served queue above."""

    _queue_class = FairQueue
    _pool: FairQueue

    def connect_at_once(self) -> PoolProxiedConnection | None:
        """An idle, open connection checked out with nothing to await, or None.

        The async engine checks out inside a new greenlet, in case the pool must await
        (a connection to open, or to come back): 61-69 µs a checkout and return on this
        machine, against 18 µs for the same checkout made directly (bench/README.md).
        When the next idle connection is open, and was opened after the pool last
        learnt of a lost connection (when SQLAlchemy opens every older one again), the
        pool awaits nothing.
        """
        idle = self._pool.next_idle()
        if (
            idle is None
            or idle.driver_connection is None
            or idle.driver_connection.is_closed()
            # The record's own attribute, not on the ConnectionPoolEntry interface.
            or idle.last_connect_time <= self._invalidate_time  # type: ignore[attr-defined]
        ):
            return None
        try:
            return self.connect()
        except MissingGreenlet:
            # Had it to open the connection after all, SQLAlchemy stopped at that
            # first await, before opening anything, and put the connection back.
            return None

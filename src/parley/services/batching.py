"""Work that arrives while earlier work is in flight, done together: one round trip, one commit.

Nothing waits for company. An item that finds nothing waiting and fewer than `at_once`
batches running runs at once, in its submitter's own task, so a lone item costs what
it cost alone; the items that arrive meanwhile form the next batch, up to `most` of
them. Each caller still waits for its own item's result, so a caller is answered only
once its item is committed, unless it submits without waiting: for a record nobody is
waiting on, which `finish` waits for before the service stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

# For batches of writes: at most 64 items a statement, which keeps its row locks brief;
# two statements at a time, so that PostgreSQL works on one while the next batch forms.
MOST_IN_A_BATCH = 64
BATCHES_AT_ONCE = 2


class Batches(Generic[Item, Result]):
    """Runs `run` on batches of submitted items; each submitter gets its own result.

    Two items with the same key never share a batch nor run at the same time, so a
    batch never meets the same row twice and two batches never wait on each other.
    `run` answers each item with its result, or with the error to raise to that item's
    submitter alone; if `run` itself raises, every item of the batch gets the error.
    """

    def __init__(
        self,
        run: Callable[[list[Item]], Awaitable[Sequence[Result | Exception]]],
        *,
        key: Callable[[Item], Hashable],
        most: int = MOST_IN_A_BATCH,
        at_once: int = BATCHES_AT_ONCE,
    ) -> None:
        self._run = run
        self._key = key
        self._most = most
        self._at_once = at_once
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._busy: set[Hashable] = set()  # keys of the items in running batches
        self._running = 0
        self._drains: set[asyncio.Task[None]] = set()  # held, so none is collected mid-run
        self._unawaited: set[asyncio.Future[Result]] = set()  # items nobody waits on

    async def submit(self, item: Item) -> Result:
        alone = not self._waiting and self._key(item) not in self._busy
        if alone and self._running < self._at_once:
            return await self._run_here(item)
        return await self._queued(item)

    def submit_without_waiting(self, item: Item) -> None:
        """Queue `item` for the next batch and go on; a failure is logged, nobody being
        there to be told."""
        future = self._queued(item)
        self._unawaited.add(future)
        future.add_done_callback(self._unawaited_done)

    def _queued(self, item: Item) -> asyncio.Future[Result]:
        """`item` waiting for a batch, which starts now if one may."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._running < self._at_once:
            self._start_drain()
        return future

    def _unawaited_done(self, future: asyncio.Future[Result]) -> None:
        self._unawaited.discard(future)
        if not future.cancelled() and (error := future.exception()) is not None:
            log.error("a record submitted without waiting was not written", exc_info=error)

    async def finish(self) -> None:
        """Wait until every item submitted without waiting has been run."""
        while self._unawaited:
            await asyncio.wait(set(self._unawaited))

    async def _run_here(self, item: Item) -> Result:
        """A lone item, in its submitter's own task: what it cost without batches."""
        key = self._key(item)
        self._running += 1
        self._busy.add(key)
        try:
            (result,) = await self._run([item])
        finally:
            self._busy.discard(key)
            self._running -= 1
            if self._waiting and self._running < self._at_once:
                self._start_drain()  # for those that came meanwhile and found none free
        if isinstance(result, Exception):
            raise result
        return result

    def _start_drain(self) -> None:
        self._running += 1
        drain = asyncio.create_task(self._drain())
        self._drains.add(drain)
        drain.add_done_callback(self._drain_ended)

    def _drain_ended(self, drain: asyncio.Task[None]) -> None:
        if drain in self._drains:  # cancelled before it began, so never counted off
            self._drains.discard(drain)
            self._running -= 1

    async def _drain(self) -> None:
        try:
            while batch := self._next_batch():
                keys = {self._key(item) for item, _ in batch}
                self._busy |= keys
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                except BaseException:
                    for _, future in batch:
                        future.cancel()
                    raise
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if future.done():
                            continue
                        if isinstance(result, Exception):
                            future.set_exception(result)
                        else:
                            future.set_result(result)
                finally:
                    self._busy -= keys
        finally:
            # Counted off here, at once: in a done callback it would still count while
            # the callback waits its turn, and an item arriving then would start no batch
            # and wait for one that is not coming.
            self._running -= 1
            current = asyncio.current_task()
            assert current is not None
            self._drains.discard(current)

    def _next_batch(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        """The oldest waiting items, one per key and none of a running batch's keys.

        An item whose caller has gone (its future cancelled) is dropped, not run: that
        caller was never told it was done, so its sender will try again.
        """
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        keys: set[Hashable] = set()
        left: list[tuple[Item, asyncio.Future[Result]]] = []
        for entry in self._waiting:
            item, future = entry
            if future.done():
                continue
            key = self._key(item)
            if len(batch) == self._most or key in keys or key in self._busy:
                left.append(entry)
            else:
                batch.append(entry)
                keys.add(key)
        self._waiting = left
        return batch

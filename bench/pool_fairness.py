"""How long requests wait for a connection when they outnumber the pool.

`python -m bench.pool_fairness`: 64 requests share 8 connections, each holding one for
a 2 ms statement, for 3 s, on SQLAlchemy's own asyncio pool and on Parley's
(`parley/db/fair_pool.py`); prints the wait for a connection at the median, the
slowest hundredth and thousandth, and the longest. Two patterns: each request asks
again the moment it gives its connection back (as a use case with two statements in
turn does), or only after a turn of the event loop (as the next web request does).
Needs PostgreSQL (`BENCH_POSTGRES`, as `make bench`).
"""

from __future__ import annotations

import asyncio
import os
import time

import uvloop
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool

from parley.db.fair_pool import FairPool
from parley.settings import to_async_url

REQUESTS, CONNECTIONS, HOLD_SECONDS, RUN_SECONDS = 64, 8, 0.002, 3.0


async def waits_for_a_connection(url: str, pool: type[Pool], *, at_once: bool) -> list[float]:
    engine = create_async_engine(url, poolclass=pool, pool_size=CONNECTIONS, max_overflow=0)
    waits: list[float] = []
    until = time.monotonic() + RUN_SECONDS

    async def request() -> None:
        while time.monotonic() < until:
            asked = time.monotonic()
            pooled = await engine.raw_connection()
            waits.append(time.monotonic() - asked)
            connection = pooled.driver_connection
            assert connection is not None
            await connection.fetchval("SELECT pg_sleep($1)", HOLD_SECONDS)
            pooled.close()
            if not at_once:
                await asyncio.sleep(0)

    try:
        await asyncio.gather(*(request() for _ in range(REQUESTS)))
    finally:
        await engine.dispose()
    return sorted(waits)


def report(name: str, waits: list[float]) -> str:
    def at(share: float) -> float:
        return waits[int(share * (len(waits) - 1))] * 1000

    return (
        f"  {name:22} {len(waits):6,} checkouts   wait p50 {at(0.5):5.1f} ms   "
        f"p99 {at(0.99):5.1f} ms   p99.9 {at(0.999):5.1f} ms   longest {waits[-1] * 1000:5.1f} ms"
    )


async def main() -> None:
    url = to_async_url(
        os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    print(f"{REQUESTS} requests, {CONNECTIONS} connections, each held {HOLD_SECONDS * 1000:g} ms")
    for at_once, pattern in ((True, "asking again at once"), (False, "after a turn of the loop")):
        print(pattern)
        for pool in (AsyncAdaptedQueuePool, FairPool):
            print(report(pool.__name__, await waits_for_a_connection(url, pool, at_once=at_once)))


if __name__ == "__main__":
    uvloop.run(main())

"""Sending queued texts: claim, check, wait for the number's rate, send, record.

Exactly-once, as far as a recipient can tell: a claim is a lease that a live worker
keeps renewing, so only a worker that died loses it. Its successor cannot know whether
the provider accepted the text before the crash, so before any retry it asks the
provider (`find_sent`): every text carries its recipient's unique reply link, so an
exact body match is this very text, and its id is adopted instead of sending again.
A status callback that names the delivery (the `d` query parameter of StatusCallback)
also records the provider id and takes the text out of the queue.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, func, select, update

from parley.db.deliveries import ClaimedText, claim_due, extend_claims
from parley.db.models import FirmSmsNumber, SmsDelivery
from parley.dispatch.rate_limit import RateLimiter, approach_slot
from parley.dispatch.wakeup import listen_for_queued_texts
from parley.domain.delivery_status import DeliveryStatus
from parley.domain.retry import RetryPolicy, retry_delay, should_give_up
from parley.domain.sms_text import full_text
from parley.providers.sms import OutboundText, SendFailed, SmsProvider
from parley.services.batching import Batches
from parley.services.context import ServiceContext
from parley.services.delivery_updates import apply_status
from parley.services.reply_links import reply_link_url
from parley.services.texting import OPTED_OUT

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


@dataclass(frozen=True)
class DispatchConfig:
    worker_id: str = field(default_factory=lambda: f"worker-{uuid.uuid4().hex[:8]}")
    concurrency: int = 32
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 0.5
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    default_rate_per_second: float = 1.0
    rates_refresh_seconds: float = 30.0


class Dispatcher:
    def __init__(
        self,
        ctx: ServiceContext,
        provider: SmsProvider,
        limiter: RateLimiter,
        config: DispatchConfig,
    ) -> None:
        self.ctx = ctx
        self.provider = provider
        self.limiter = limiter
        self.config = config
        self._inflight: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._rates: dict[str, float | None] = {}
        self._rates_loaded_at = float("-inf")
        # Sends accepted while others are being recorded are recorded together: one
        # statement and one commit for many (services/batching.py).
        self._acceptances: Batches[_Accepted, None] = Batches(
            self._record_acceptances, key=lambda accepted: accepted.delivery_id
        )
        self.handed_over = 0  # texts this dispatcher saw the provider accept

    async def run(self, stop: asyncio.Event) -> None:
        wakeup = self.ctx.dispatch_wakeup
        async with listen_for_queued_texts(self.ctx.settings.database_url, wakeup):
            heartbeat = asyncio.create_task(self._keep_claims(stop))
            try:
                while not stop.is_set():
                    free = self.config.concurrency - len(self._inflight)
                    if free == 0:
                        await self._wait_for_work(stop, room=self._claim_batch)
                        continue
                    try:
                        claimed = await self._claim(free)
                    except Exception:
                        # The database is away (a restart, a failover): the queue is
                        # still there when it is back, so wait a poll and claim again.
                        log.exception("claiming queued texts failed; trying again")
                        claimed = []
                    for text in claimed:
                        self._inflight[text.id] = asyncio.create_task(self._deliver(text))
                    if len(claimed) < free:  # nothing more is due: wait for news
                        await self._wait_for_work(stop)
            finally:
                heartbeat.cancel()
                if self._inflight:
                    await asyncio.wait(list(self._inflight.values()), timeout=30)

    @property
    def _claim_batch(self) -> int:
        # A claim costs a transaction whatever its size: while every slot is busy,
        # wait for a quarter of them to free rather than claim each time a send ends.
        return max(1, self.config.concurrency // 4)

    async def _wait_for_work(self, stop: asyncio.Event, room: int | None = None) -> None:
        """Until texts are queued, `room` slots are free (if given), or the poll comes round."""
        wakeup = self.ctx.dispatch_wakeup
        signals = [asyncio.create_task(wakeup.wait()), asyncio.create_task(stop.wait())]
        deadline = time.monotonic() + self.config.poll_interval
        try:
            while not any(signal.done() for signal in signals):
                left = deadline - time.monotonic()
                free = self.config.concurrency - len(self._inflight)
                if left <= 0 or (room is not None and free >= room):
                    break
                waiting_on = [*signals, *self._inflight.values()] if room else signals
                await asyncio.wait(waiting_on, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for signal in signals:
                signal.cancel()
        wakeup.clear()

    async def _claim(self, limit: int) -> list[ClaimedText]:
        now = self.ctx.clock()
        async with self.ctx.db.statements() as statements:
            return await claim_due(
                statements,
                worker=self.config.worker_id,
                now=now,
                lease_until=now + self.config.lease,
                limit=limit,
            )

    async def _keep_claims(self, stop: asyncio.Event) -> None:
        interval = self.config.lease.total_seconds() / 3
        while not stop.is_set():
            await asyncio.sleep(interval)
            if not self._inflight:
                continue
            try:
                async with self.ctx.db.transaction() as session:
                    await extend_claims(
                        session,
                        worker=self.config.worker_id,
                        ids=list(self._inflight),
                        lease_until=self.ctx.clock() + self.config.lease,
                    )
            except Exception:
                # A lapsed claim only lets another worker ask the provider first.
                log.exception("renewing claims failed; trying again next beat")

    async def _deliver(self, claimed: ClaimedText) -> None:
        try:
            await self._send(claimed)
        except Exception:
            log.exception("sending delivery %s failed unexpectedly", claimed.id)
            await self._record_failure(
                claimed.id, SendFailed("Unexpected error while sending", permanent=False)
            )
        finally:
            self._inflight.pop(claimed.id, None)

    async def _send(self, claimed: ClaimedText) -> None:
        if claimed.opted_out:
            await self._record_failure(
                claimed.id, SendFailed(OPTED_OUT, permanent=True, code="opted_out")
            )
            return
        assert claimed.link_id is not None, "every delivery is minted with its reply link"
        text = OutboundText(
            to=claimed.to_number,
            sender=claimed.from_number,
            body=full_text(claimed.body, reply_link_url(self.ctx.settings, claimed.link_id)),
            status_callback_url=self._callback_url(claimed.id),
        )
        try:
            if claimed.attempts > 1:
                earlier = await self.provider.find_sent(
                    text, since=claimed.first_attempt_at - timedelta(minutes=1)
                )
                if earlier is not None:
                    await self._record_accepted(claimed.id, earlier.provider_id)
                    return
            slot = await approach_slot(
                self.limiter,
                claimed.from_number,
                claimed.segments,
                await self._rate_of(claimed.from_number),
            )
            accepted = await self.provider.send(text, leave_at=slot)
        except SendFailed as failure:
            await self._record_failure(claimed.id, failure)
            return
        await self._record_accepted(claimed.id, accepted.provider_id)

    def _callback_url(self, delivery_id: uuid.UUID) -> str:
        base = self.ctx.settings.public_url.rstrip("/")
        return f"{base}{STATUS_CALLBACK_PATH}?d={delivery_id}"

    async def _record_accepted(self, delivery_id: uuid.UUID, provider_id: str) -> None:
        await self._acceptances.submit(_Accepted(delivery_id, provider_id))
        self.handed_over += 1

    async def _record_acceptances(self, batch: list[_Accepted]) -> list[None]:
        """Should this fail, each send of the batch is taken for a failed one: tried again
        later, when the provider is asked first (`find_sent`), so none goes twice."""
        await self.ctx.db.run_for_each(_RECORD_ACCEPTED, _RECORD_ACCEPTED_TOGETHER, batch)
        return [None] * len(batch)

    async def _record_failure(self, delivery_id: uuid.UUID, failure: SendFailed) -> None:
        now = self.ctx.clock()
        policy = self.config.retry
        async with self.ctx.db.transaction() as session:
            row = await session.get_one(SmsDelivery, delivery_id, with_for_update=True)
            if row.provider_id is not None:
                return  # a callback proved the text went out after all
            row.claimed_by = None
            row.claimed_until = None
            if failure.permanent or should_give_up(policy, row.attempts):
                reason = failure.reason
                if not failure.permanent:
                    reason = f"Not sent after {row.attempts} attempts: {failure.reason}"
                row.next_attempt_at = None
                apply_status(row, DeliveryStatus.FAILED, failure.code, reason, now)
            else:
                delay = retry_delay(policy, row.attempts, random.random(), failure.retry_after)
                row.next_attempt_at = now + timedelta(seconds=delay)
                log.info(
                    "delivery %s: attempt %d failed (%s); retrying in %.1fs",
                    row.id,
                    row.attempts,
                    failure.reason,
                    delay,
                )

    async def _rate_of(self, number: str) -> float:
        if time.monotonic() - self._rates_loaded_at > self.config.rates_refresh_seconds:
            async with self.ctx.db.sessions() as session:
                rows = await session.execute(
                    select(FirmSmsNumber.number, FirmSmsNumber.send_rate_per_second)
                )
                self._rates = {n: r for n, r in rows}
            self._rates_loaded_at = time.monotonic()
        return self._rates.get(number) or self.config.default_rate_per_second


_DELIVERIES = cast(Table, SmsDelivery.__table__)


class _Accepted(NamedTuple):
    delivery_id: uuid.UUID
    provider_id: str


# A status callback may have recorded the provider's id first; it is the same text.
# SQLite's form; PostgreSQL's, below, takes a batch.
_RECORD_ACCEPTED = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("delivery_id"))
    .values(
        provider_id=func.coalesce(_DELIVERIES.c.provider_id, bindparam("provider_id")),
        next_attempt_at=None,
        claimed_by=None,
        claimed_until=None,
    )
)
# As _RECORD_ACCEPTED, for a batch given as one JSON array of [delivery id, provider id]
# (Database.run_for_each). The rows are locked in id order, as status callbacks lock
# them, so that two batches never deadlock.
_RECORD_ACCEPTED_TOGETHER = """
WITH accepted AS (
    SELECT (pair->>0)::uuid AS delivery_id, pair->>1 AS provider_id
    FROM json_array_elements($1::json) AS pair
), locked AS (
    SELECT id FROM sms_deliveries WHERE id IN (SELECT delivery_id FROM accepted)
    ORDER BY id FOR UPDATE
)
UPDATE sms_deliveries AS d SET
    provider_id = COALESCE(d.provider_id, accepted.provider_id),
    next_attempt_at = NULL,
    claimed_by = NULL,
    claimed_until = NULL
FROM accepted JOIN locked ON locked.id = accepted.delivery_id
WHERE d.id = accepted.delivery_id
"""

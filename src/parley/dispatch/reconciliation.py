"""Asking the provider about texts whose status callbacks never came.

Twilio calls back once per status and never retries, so one lost callback would leave a
text "sending" or "sent" for good. A text with no news for `after` is fetched from the
provider and the answer applied exactly as a callback would be (forward only, kept for
audit), marked as coming from reconciliation. That answer is news too, so a text the
provider still holds is asked about again only after another `after`, never on every
pass; each pass asks about at most `batch` texts, the longest quiet first. Some
carriers never report delivery, so Twilio's "sent" can be the last word: texts older
than `give_up_after` are left as they are rather than asked about every hour for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime, timedelta

from parley.db.deliveries import awaiting_news
from parley.providers.sms import ProviderMessage, SendFailed, SmsProvider
from parley.providers.twilio.errors import describe_error
from parley.providers.twilio.statuses import our_status
from parley.services.context import ServiceContext
from parley.services.delivery_updates import ProviderEvent, record_provider_event

log = logging.getLogger(__name__)

SOURCE = "reconciliation"


class Reconciler:
    def __init__(
        self,
        ctx: ServiceContext,
        provider: SmsProvider,
        *,
        after: timedelta,
        interval: float,
        batch: int = 100,
        give_up_after: timedelta = timedelta(days=3),
    ) -> None:
        self.ctx = ctx
        self.provider = provider
        self.after = after
        self.interval = interval
        self.batch = batch
        self.give_up_after = give_up_after
        # Texts the provider could not tell us about, and when we asked: left alone for
        # `after` like answered ones, so a few it never answers for (deleted at the
        # provider, say) cannot fill every batch and starve the others.
        self._unanswered: dict[uuid.UUID, datetime] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.reconcile_once(stop)
            except Exception:
                # The database is away, say: the texts wait for the next pass.
                log.exception("reconciling texts with the provider failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def reconcile_once(self, stop: asyncio.Event | None = None) -> int:
        """One pass; how many texts the provider told us about."""
        now = self.ctx.clock()
        quiet_since = now - self.after
        self._unanswered = {k: at for k, at in self._unanswered.items() if at > quiet_since}
        async with self.ctx.db.sessions() as session:
            quiet = await awaiting_news(
                session,
                quiet_since=quiet_since,
                created_since=now - self.give_up_after,
                exclude=list(self._unanswered),
                limit=self.batch,
            )
        answered = 0
        for delivery_id, provider_id in quiet:
            if stop is not None and stop.is_set():
                break
            if await self._ask(delivery_id, provider_id):
                answered += 1
            else:
                self._unanswered[delivery_id] = now
        return answered

    async def _ask(self, delivery_id: uuid.UUID, provider_id: str) -> bool:
        try:
            message = await self.provider.fetch(provider_id)
            return await record_provider_event(self.ctx, reconciliation_event(message), delivery_id)
        except SendFailed as failure:
            log.warning("could not ask the provider about text %s: %s", provider_id, failure)
        except Exception:
            # One odd answer or row must not keep the other texts from being asked about.
            log.exception("reconciling text %s failed", provider_id)
        return False


def reconciliation_event(message: ProviderMessage) -> ProviderEvent:
    """The provider's answer as the status callback it stands in for."""
    params = {"source": SOURCE, "MessageSid": message.provider_id, "MessageStatus": message.status}
    if message.error_code is not None:
        params["ErrorCode"] = message.error_code
    return ProviderEvent(
        provider_id=message.provider_id,
        provider_status=message.status,
        status=our_status(message.status),
        error_code=message.error_code,
        reason=describe_error(message.error_code).reason,
        params=params,
    )

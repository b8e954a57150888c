"""Running the dispatcher from settings: inside `parley serve` or alone as `parley worker`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from parley.dispatch.dispatcher import DispatchConfig, Dispatcher
from parley.dispatch.email_outbox import EmailOutbox
from parley.dispatch.rate_limit import build_rate_limiter
from parley.dispatch.reconciliation import Reconciler
from parley.domain.retry import RetryPolicy
from parley.providers.email import SmtpSender
from parley.providers.factory import build_sms_provider
from parley.services.context import ServiceContext


def dispatch_config(ctx: ServiceContext) -> DispatchConfig:
    settings = ctx.settings
    return DispatchConfig(
        concurrency=settings.dispatch_concurrency,
        lease=timedelta(seconds=settings.dispatch_lease_seconds),
        poll_interval=settings.dispatch_poll_seconds,
        retry=RetryPolicy(
            max_attempts=settings.sms_max_attempts,
            base_seconds=settings.sms_retry_base_seconds,
            cap_seconds=settings.sms_retry_cap_seconds,
        ),
        default_rate_per_second=settings.sms_send_rate_per_second,
    )


async def run_dispatcher(ctx: ServiceContext, stop: asyncio.Event) -> None:
    """Texts, email notices and reconciliation, side by side, until `stop` is set."""
    settings = ctx.settings
    provider = build_sms_provider(settings)
    limiter = build_rate_limiter(settings.redis_url)
    sender = SmtpSender(settings.smtp_url) if settings.smtp_url else None
    outbox = EmailOutbox(ctx, sender, poll_interval=settings.dispatch_poll_seconds * 2)
    reconciler = Reconciler(
        ctx,
        provider,
        after=timedelta(seconds=settings.reconcile_after_seconds),
        interval=settings.reconcile_interval_seconds,
    )
    try:
        await asyncio.gather(
            Dispatcher(ctx, provider, limiter, dispatch_config(ctx)).run(stop),
            outbox.run(stop),
            reconciler.run(stop),
        )
    finally:
        await provider.aclose()
        await limiter.aclose()

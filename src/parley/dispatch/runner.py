"""Running the dispatcher from settings: inside `parley serve` or alone as `parley worker`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from parley.dispatch.dispatcher import DispatchConfig, Dispatcher
from parley.dispatch.email_outbox import EmailOutbox
from parley.dispatch.rate_limit import build_rate_limiter
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
    """Texts and email notices, side by side, until `stop` is set."""
    provider = build_sms_provider(ctx.settings)
    limiter = build_rate_limiter(ctx.settings.redis_url)
    sender = SmtpSender(ctx.settings.smtp_url) if ctx.settings.smtp_url else None
    outbox = EmailOutbox(ctx, sender, poll_interval=ctx.settings.dispatch_poll_seconds * 2)
    try:
        await asyncio.gather(
            Dispatcher(ctx, provider, limiter, dispatch_config(ctx)).run(stop),
            outbox.run(stop),
        )
    finally:
        await provider.aclose()
        await limiter.aclose()

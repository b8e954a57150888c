"""The whole system for real: Parley and the carrier simulator served on loopback.

Parley's dispatcher talks to the simulator through the production Twilio adapter, and
the simulator calls Parley's webhooks back, signed, exactly as Twilio would.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette

from parley.db.engine import Database
from parley.dispatch.dispatcher import DispatchConfig, Dispatcher
from parley.dispatch.rate_limit import LocalRateLimiter
from parley.dispatch.runner import dispatch_config
from parley.providers.factory import build_sms_provider
from parley.services.context import ServiceContext
from parley.settings import Settings
from parley.simulator.app import SimulatorConfig, create_simulator_app
from parley.simulator.state import SimulatorState
from parley.web.app import create_app
from tests.support.servers import reserve_port, serve, url_of

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "live-test-auth-token"


@dataclass
class LiveSystem:
    settings: Settings
    ctx: ServiceContext
    sim: SimulatorState
    sim_url: str
    parley_url: str
    api: httpx.AsyncClient
    simulator_app: Starlette
    simulator_socket: socket.socket

    @asynccontextmanager
    async def start_simulator(self) -> AsyncIterator[str]:
        """Serve the simulator (when the system started without it), e.g. after an outage."""
        async with serve(self.simulator_app, self.simulator_socket) as url:
            yield url

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a `parley` subprocess that joins this system."""
        s = self.settings
        return os.environ | {
            "PARLEY_DATABASE_URL": s.database_url,
            "PARLEY_PUBLIC_URL": s.public_url,
            "PARLEY_SMS_PROVIDER": "twilio",
            "PARLEY_TWILIO_API_URL": s.twilio_api_url,
            "PARLEY_TWILIO_ACCOUNT_SID": s.twilio_account_sid,
            "PARLEY_TWILIO_AUTH_TOKEN": s.twilio_auth_token,
            "PARLEY_SMS_SEND_RATE_PER_SECOND": str(s.sms_send_rate_per_second),
            "PARLEY_SMS_RETRY_BASE_SECONDS": str(s.sms_retry_base_seconds),
            "PARLEY_DISPATCH_POLL_SECONDS": str(s.dispatch_poll_seconds),
            **extra,
        }

    def start_worker(self, **extra: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "parley", "worker"],
            env=self.env(**extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @asynccontextmanager
    async def dispatcher(self, **overrides: object) -> AsyncIterator[Dispatcher]:
        """A dispatcher in this process, with its own database connections."""
        db = Database(self.settings.database_url)
        ctx = ServiceContext(settings=self.settings, db=db)
        config = DispatchConfig(**(dispatch_config(ctx).__dict__ | overrides))
        provider = build_sms_provider(self.settings)
        dispatcher = Dispatcher(ctx, provider, LocalRateLimiter(), config)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        try:
            yield dispatcher
        finally:
            stop.set()
            await task
            await provider.aclose()
            await db.dispose()


async def eventually(
    check: Callable[[], Awaitable[bool]], *, within: float = 30.0, every: float = 0.05
) -> None:
    """Wait until `check` holds; a test of behaviour, bounded so a fault cannot hang."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {within}s: {check.__name__}")
        await asyncio.sleep(every)


@asynccontextmanager
async def live_system(
    database_url: str,
    *,
    with_dispatcher: bool = True,
    start_simulator: bool = True,
    callback_delay: float = 0.05,
    carrier_network: httpx.AsyncBaseTransport | None = None,
    **settings: object,
) -> AsyncIterator[LiveSystem]:
    """Parley and the simulator; `carrier_network` carries the simulator's callbacks."""
    parley_sock, sim_sock = reserve_port(), reserve_port()
    parley_url, sim_url = url_of(parley_sock), url_of(sim_sock)
    config = Settings(
        database_url=database_url,
        public_url=parley_url,
        sms_provider="twilio",
        twilio_api_url=sim_url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        **(
            {
                "sms_send_rate_per_second": 1000.0,
                "sms_retry_base_seconds": 0.1,
                "dispatch_poll_seconds": 0.1,
            }
            | settings
        ),  # type: ignore[arg-type]
    )
    ctx = ServiceContext(settings=config, db=Database(database_url))
    state = SimulatorState()
    simulator = create_simulator_app(
        SimulatorConfig(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            callback_delay_seconds=callback_delay,
            inbound_webhook_url=f"{parley_url}/webhooks/twilio/inbound",
            transport=carrier_network,
        ),
        state,
    )
    app = create_app(ctx=ctx, with_dispatcher=with_dispatcher)
    async with AsyncExitStack() as stack:
        if start_simulator:
            await stack.enter_async_context(serve(simulator, sim_sock))
        await stack.enter_async_context(serve(app, parley_sock))
        api = await stack.enter_async_context(httpx.AsyncClient(base_url=parley_url))
        yield LiveSystem(config, ctx, state, sim_url, parley_url, api, simulator, sim_sock)
        await simulator.state.simulator.carrier.aclose()
    await ctx.db.dispose()

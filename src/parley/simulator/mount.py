"""The simulator as the running service uses it: mounted at /sim, or alone."""

from __future__ import annotations

from starlette.applications import Starlette

from parley.settings import Settings
from parley.simulator.app import SimulatorConfig, create_simulator_app


def simulator_for(settings: Settings) -> Starlette:
    return create_simulator_app(
        SimulatorConfig(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            callback_delay_seconds=1.0,
            inbound_webhook_url=f"{settings.public_url.rstrip('/')}/webhooks/twilio/inbound",
        )
    )

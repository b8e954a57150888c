"""The carrier's side of a text: walking its status and telling the sender by callback."""

from __future__ import annotations

import asyncio
import logging

import httpx

from parley.providers.twilio.errors import describe_error
from parley.providers.twilio.signature import sign
from parley.simulator.state import CallbackRecord, SimMessage, SimulatorState, now

log = logging.getLogger(__name__)


class Carrier:
    def __init__(
        self,
        state: SimulatorState,
        *,
        auth_token: str,
        step_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.state = state
        self.auth_token = auth_token
        self.step_seconds = step_seconds
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def carry(self, message: SimMessage) -> None:
        """Deliver (or fail) the text in the background, as a carrier does."""
        task = asyncio.create_task(self._walk(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _walk(self, message: SimMessage) -> None:
        outcome = self.state.outcome_for(message.to)
        step = self.step_seconds * (outcome.slow_factor if outcome.kind == "slow" else 1.0)
        await asyncio.sleep(step)
        message.date_sent = now()
        await self._move(message, "sent")
        await asyncio.sleep(step)
        if outcome.kind == "fail":
            message.error_code = outcome.error_code
            message.error_message = describe_error(outcome.error_code).reason
            await self._move(message, "undelivered")
        else:
            await self._move(message, "delivered")

    async def _move(self, message: SimMessage, status: str) -> None:
        message.status = status
        message.date_updated = now()
        if message.status_callback:
            await self.callback(message)

    async def callback(self, message: SimMessage) -> None:
        """POST Twilio's status callback, signed, exactly once (Twilio does not retry)."""
        assert message.status_callback is not None
        params = {
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "AccountSid": message.account_sid,
            "From": message.from_,
            "To": message.to,
            "MessageStatus": message.status,
            "SmsStatus": message.status,
            "ApiVersion": "2010-04-01",
        }
        if message.error_code is not None:
            params["ErrorCode"] = str(message.error_code)
            params["ErrorMessage"] = message.error_message or ""
        url = message.status_callback
        headers = {"X-Twilio-Signature": sign(self.auth_token, url, params)}
        try:
            response = await self.http.post(url, data=params, headers=headers)
        except httpx.HTTPError as error:
            log.info("status callback to %s failed: %s", url, error)
            self.state.callbacks.append(CallbackRecord(url, params, None, str(error)))
            return
        self.state.callbacks.append(CallbackRecord(url, params, response.status_code))

    @property
    def http(self) -> httpx.AsyncClient:
        # Made on first use: a mounted sub-application gets no lifespan of its own.
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0, transport=self._transport)
        return self._http

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.aclose()

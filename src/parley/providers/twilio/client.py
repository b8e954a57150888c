"""The Twilio Messages API adapter: the one SMS provider, real or simulated.

It speaks the wire format of ../shared/reference/twilio (form-encoded create, JSON
resources, paged lists) and turns every failure into `SendFailed`, permanent or not,
with a reason from the error table.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp.client_reqrep import ClientRequest
from aiohttp.connector import Connection
from aiohttp.tracing import Trace
from yarl import URL

from parley.providers.sms import OutboundText, ProviderMessage, SendFailed
from parley.providers.twilio.errors import describe_error

API_VERSION = "2010-04-01"
TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 100


# When the request being made in this task is to leave (TwilioProvider.send).
_leave_at: ContextVar[float | None] = ContextVar("leave_at", default=None)


class _ConnectorLeavingOnTime(aiohttp.TCPConnector):
    """Hands a request its connection, then holds it until the request's moment comes."""

    async def connect(
        self,
        req: ClientRequest,
        traces: list[Trace],
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 (aiohttp's signature)
    ) -> Connection:
        connection = await super().connect(req, traces, timeout)
        leave_at = _leave_at.get()
        if leave_at is None or (wait := leave_at - time.monotonic()) <= 0:
            return connection
        try:
            await asyncio.sleep(wait)
        except BaseException:
            connection.release()  # nothing was written on it: it is as good as new
            raise
        if connection.closed:
            # The provider closed it while it waited: a pooled connection can reach the
            # end of the provider's keep-alive just then. Sent on, the text would fail.
            connection.close()
            return await super().connect(req, traces, timeout)
        return connection


@dataclass(frozen=True)
class _Answer:
    status: int
    retry_after: str | None
    body: bytes


class TwilioProvider:
    """Twilio's Messages API over aiohttp.

    aiohttp rather than httpx: a dispatch worker spent half of its CPU in its HTTP
    client, and aiohttp takes about a tenth of httpx's per request (bench/README.md).
    """

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_url: str,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._messages = f"/{API_VERSION}/Accounts/{account_sid}/Messages"
        self._authorization = aiohttp.encode_basic_auth(account_sid, auth_token)
        self._timeout = aiohttp.ClientTimeout(
            total=timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout)
        )
        # Made on first use: an aiohttp session belongs to the event loop it starts in.
        self._session: aiohttp.ClientSession | None = None

    async def send(self, text: OutboundText, leave_at: float | None = None) -> ProviderMessage:
        form = {
            "To": text.to,
            "From": text.sender,
            "Body": text.body,
            "StatusCallback": text.status_callback_url,
        }
        moment = _leave_at.set(leave_at)
        try:
            resource = await self._call("POST", f"{self._messages}.json", data=form)
        finally:
            _leave_at.reset(moment)
        return _message(resource)

    async def find_sent(self, text: OutboundText, since: datetime) -> ProviderMessage | None:
        # Newest first; stop at the first message older than the earliest attempt.
        # DateSent is not used as a filter: a text still queued has no date_sent yet.
        # Twilio's dates have whole seconds, so the bound is rounded down to match.
        since = since.replace(microsecond=0)
        page: dict[str, Any] | None = await self._call(
            "GET",
            f"{self._messages}.json",
            params={"To": text.to, "From": text.sender, "PageSize": "100"},
        )
        while page is not None:
            for resource in page.get("messages", []):
                if resource.get("body") == text.body:
                    return _message(resource)
                created = _parse_date(resource.get("date_created"))
                if created is not None and created < since:
                    return None
            next_uri = page.get("next_page_uri")
            page = await self._call("GET", next_uri) if next_uri else None
        return None

    async def fetch(self, provider_id: str) -> ProviderMessage:
        return _message(await self._call("GET", f"{self._messages}/{provider_id}.json"))

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=_ConnectorLeavingOnTime(limit=MAX_CONNECTIONS),
                headers={"Authorization": self._authorization},
                timeout=self._timeout,
            )
        # Paths come from Twilio already percent-encoded (next_page_uri): send as given.
        url = URL(self._base + path, encoded=True)
        try:
            async with self._session.request(method, url, **kwargs) as response:
                answer = _Answer(
                    response.status, response.headers.get("Retry-After"), await response.read()
                )
        except TimeoutError:
            raise SendFailed("The SMS provider did not answer in time", permanent=False) from None
        except aiohttp.ClientError as error:
            raise SendFailed(
                f"The SMS provider is unreachable ({type(error).__name__})", permanent=False
            ) from None
        if not 200 <= answer.status < 300:
            raise _failure(answer)
        resource = _json_object(answer.body)
        if resource is None:
            # Something between us and Twilio answered (a proxy's page, say). Whether the
            # text was taken is unknown, so it is a transient failure: the retry looks
            # for it first (find_sent) before sending again.
            reason = f"The SMS provider answered {answer.status} without a Twilio resource"
            raise SendFailed(reason, permanent=False)
        return resource


def _failure(answer: _Answer) -> SendFailed:
    retry_after = _retry_after(answer)
    detail = _json_object(answer.body) or {}
    code = detail.get("code")
    if answer.status == 429 or answer.status >= 500:
        reason = f"The SMS provider answered {answer.status}"
        return SendFailed(reason, permanent=False, code=_text(code), retry_after=retry_after)
    if answer.status in (401, 403):
        # Wrong credentials are an operator's mistake to fix, not the recipient's fault:
        # keep the texts waiting rather than failing them all.
        return SendFailed(describe_error(20003).reason, permanent=False, code=_text(code))
    info = describe_error(code)
    fallback = answer.body.decode(errors="replace")
    reason = info.reason if code is not None else str(detail.get("message", fallback))
    return SendFailed(reason, permanent=info.permanent, code=info.code, retry_after=retry_after)


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _message(resource: dict[str, Any]) -> ProviderMessage:
    code = resource.get("error_code")
    return ProviderMessage(
        provider_id=str(resource["sid"]),
        status=str(resource.get("status", "")),
        error_code=_text(code),
        error_message=resource.get("error_message"),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _retry_after(answer: _Answer) -> float | None:
    value = answer.retry_after
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _parse_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None

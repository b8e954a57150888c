"""The Twilio Messages API adapter: the one SMS provider, real or simulated.

It speaks the wire format of ../shared/reference/twilio (form-encoded create, JSON
resources, paged lists) and turns every failure into `SendFailed`, permanent or not,
with a reason from the error table.
"""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import Any

import httpx

from parley.providers.sms import OutboundText, ProviderMessage, SendFailed
from parley.providers.twilio.errors import describe_error

API_VERSION = "2010-04-01"
TIMEOUT_SECONDS = 10.0
CONNECT_TIMEOUT_SECONDS = 5.0


class TwilioProvider:
    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        api_url: str,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._messages = f"/{API_VERSION}/Accounts/{account_sid}/Messages"
        self._http = httpx.AsyncClient(
            base_url=self._base,
            auth=(account_sid, auth_token),
            timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_SECONDS, timeout)),
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def send(self, text: OutboundText) -> ProviderMessage:
        form = {
            "To": text.to,
            "From": text.sender,
            "Body": text.body,
            "StatusCallback": text.status_callback_url,
        }
        resource = await self._call("POST", f"{self._messages}.json", data=form)
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
        await self._http.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise SendFailed("The SMS provider did not answer in time", permanent=False) from None
        except httpx.TransportError as error:
            raise SendFailed(
                f"The SMS provider is unreachable ({type(error).__name__})", permanent=False
            ) from None
        if response.is_success:
            body: dict[str, Any] = response.json()
            return body
        raise _failure(response)


def _failure(response: httpx.Response) -> SendFailed:
    retry_after = _retry_after(response)
    try:
        detail = response.json()
        code = detail.get("code")
    except ValueError:
        detail, code = {}, None
    if response.status_code == 429 or response.status_code >= 500:
        reason = f"The SMS provider answered {response.status_code}"
        return SendFailed(reason, permanent=False, code=_text(code), retry_after=retry_after)
    if response.status_code in (401, 403):
        # Wrong credentials are an operator's mistake to fix, not the recipient's fault:
        # keep the texts waiting rather than failing them all.
        return SendFailed(describe_error(20003).reason, permanent=False, code=_text(code))
    info = describe_error(code)
    reason = info.reason if code is not None else str(detail.get("message", response.text))
    return SendFailed(reason, permanent=info.permanent, code=info.code, retry_after=retry_after)


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


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
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

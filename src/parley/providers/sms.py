"""The one interface every SMS provider sits behind.

The dispatcher only ever talks to `SmsProvider`; whether the other side is Twilio or our
carrier simulator is a matter of configuration, never of code paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class OutboundText:
    to: str  # E.164
    sender: str  # E.164, one of the firm's numbers
    body: str
    status_callback_url: str


@dataclass(frozen=True)
class ProviderMessage:
    """What the provider knows of one text it accepted."""

    provider_id: str
    status: str  # the provider's own status word, e.g. Twilio's "queued"
    error_code: str | None = None
    error_message: str | None = None


class SendFailed(Exception):
    """The provider did not accept the text.

    `permanent` failures (invalid number, unsubscribed recipient …) are never retried;
    the others are retried with backoff, no sooner than `retry_after` seconds when the
    provider said so.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.code = code
        self.retry_after = retry_after


class SmsProvider(Protocol):
    name: str

    async def send(self, text: OutboundText, leave_at: float | None = None) -> ProviderMessage:
        """Hand one text to the provider; raise SendFailed when it is not accepted.

        With `leave_at` (on `time.monotonic()`'s clock) the request leaves no sooner:
        the connection is made ready first, and the wait is spent holding it, so the
        time it takes to connect does not make the text late.
        """
        ...

    async def find_sent(self, text: OutboundText, since: datetime) -> ProviderMessage | None:
        """The text the provider accepted from an earlier attempt, if any.

        Used before retrying an attempt whose outcome we never recorded (a worker died
        between the provider's answer and our commit): every text body carries its
        recipient's unique reply link, so an exact body match is the same text.
        """
        ...

    async def fetch(self, provider_id: str) -> ProviderMessage:
        """The provider's current view of one text (for reconciliation)."""
        ...

    async def aclose(self) -> None: ...

"""Everything the simulated carrier knows, in memory, open to tests and the phone page."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

OutcomeKind = Literal["deliver", "fail", "slow"]


@dataclass
class Outcome:
    """What the carrier does with texts to one number."""

    kind: OutcomeKind = "deliver"
    error_code: int = 30003
    slow_factor: float = 20.0


@dataclass
class SimMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    direction: str
    num_segments: int
    date_created: datetime
    date_updated: datetime
    date_sent: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None
    status_callback: str | None = None


@dataclass(frozen=True)
class CreateRequest:
    """One call of the create-message endpoint, accepted or not."""

    at: float  # time.monotonic()
    to: str
    from_: str
    status_code: int


@dataclass(frozen=True)
class CallbackRecord:
    url: str
    params: dict[str, str]
    status_code: int | None  # None when the callback could not be delivered
    error: str | None = None


@dataclass(frozen=True)
class PhoneText:
    """A text as the phone shows it: from the firm to the phone, or the phone's own."""

    sid: str
    firm_number: str
    body: str
    outgoing: bool  # True when the phone sent it
    at: datetime


@dataclass
class SimulatorState:
    messages: dict[str, SimMessage] = field(default_factory=dict)
    create_requests: list[CreateRequest] = field(default_factory=list)
    # Sids asked for through the fetch-message endpoint, answered or not.
    fetch_requests: list[str] = field(default_factory=list)
    callbacks: list[CallbackRecord] = field(default_factory=list)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    phones: dict[str, list[PhoneText]] = field(default_factory=dict)
    # "up"; "unavailable" answers every API call with 503 as during an outage;
    # "rate_limited" answers them with 429 and a Retry-After of `retry_after` seconds.
    mode: Literal["up", "unavailable", "rate_limited"] = "up"
    retry_after: int = 1
    # Seconds the API waits before answering an accepted create, as a slow provider would.
    response_delay: float = 0.0

    def outcome_for(self, number: str) -> Outcome:
        return self.outcomes.get(number, Outcome())

    def set_outcome(self, number: str, outcome: Outcome) -> None:
        self.outcomes[number] = outcome

    def sent_bodies(self) -> list[str]:
        """Bodies of every outbound text the carrier accepted, in order."""
        return [m.body for m in self.messages.values() if m.direction == "outbound-api"]

    def max_in_any_window(self, sender: str, seconds: float = 1.0) -> int:
        """The most create requests from `sender` in any window of `seconds`."""
        times = sorted(r.at for r in self.create_requests if r.from_ == sender)
        most, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] >= seconds:
                start += 1
            most = max(most, end - start + 1)
        return most

    def receive_on_phone(self, phone: str, text: PhoneText) -> None:
        self.phones.setdefault(phone, []).append(text)


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def now() -> datetime:
    return datetime.now(UTC)


def monotonic() -> float:
    return time.monotonic()

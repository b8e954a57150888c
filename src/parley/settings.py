"""Configuration, read once from PARLEY_* environment variables (DESIGN.md §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_TWILIO_API_URL = "https://api.twilio.com"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    database_url: str = f"sqlite:///{Path('parley.db').resolve()}"
    public_url: str = "http://127.0.0.1:8000"
    secret_key: str = "dev-secret-change-me"
    default_phone_region: str = "US"

    sms_provider: Literal["simulator", "twilio"] = "simulator"
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = "simulator-auth-token"
    twilio_api_url: str = DEFAULT_TWILIO_API_URL
    # How long Twilio's API may keep us waiting. A send that times out is retried, and
    # the retry first asks Twilio whether the late one went through after all.
    twilio_timeout_seconds: float = Field(default=10.0, gt=0)
    # Twilio answers STOP/START/HELP itself unless Advanced Opt-Out is turned off.
    provider_answers_keywords: bool = True

    sms_reply_window_days: int = Field(default=90, ge=1)
    # Segments per second per sender number unless the number says otherwise (a US long
    # code sends about 1/s, toll-free 3/s, a short code 100/s).
    sms_send_rate_per_second: float = Field(default=1.0, gt=0)
    sms_max_attempts: int = Field(default=10, ge=1)
    sms_retry_base_seconds: float = Field(default=5.0, gt=0)
    sms_retry_cap_seconds: float = Field(default=900.0, gt=0)
    dispatch_concurrency: int = Field(default=32, ge=1)
    dispatch_lease_seconds: float = Field(default=60.0, gt=0)
    dispatch_poll_seconds: float = Field(default=0.5, gt=0)
    # Twilio calls back once per status and never again, so a lost callback would leave
    # a text "sending" or "sent" for good: after this long without news we ask instead.
    reconcile_after_seconds: float = Field(default=3600, gt=0)
    reconcile_interval_seconds: float = Field(default=300, gt=0)
    # Shares per-number sending rates between several workers; in-process without it.
    redis_url: str | None = None

    # Native apps that open reply links themselves (DESIGN §2 rule 8).
    ios_app_ids: list[str] = Field(default_factory=list)  # "TEAMID.bundle.id"
    android_package: str | None = None
    android_cert_fingerprints: list[str] = Field(default_factory=list)

    smtp_url: str | None = None
    email_notice_delay_seconds: int = Field(default=900, ge=0)
    reply_link_days: int = Field(default=7, ge=1)

    @property
    def sms_api_url(self) -> str:
        """Where the Twilio adapter sends: Twilio, or the simulator mounted at /sim."""
        if self.sms_provider == "simulator" and self.twilio_api_url == DEFAULT_TWILIO_API_URL:
            return f"{self.public_url.rstrip('/')}/sim"
        return self.twilio_api_url


def to_async_url(url: str) -> str:
    for prefix, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url

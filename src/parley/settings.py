"""Configuration, read once from PARLEY_* environment variables (DESIGN.md §3)."""

from __future__ import annotations

from functools import cached_property
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
    # Twilio answers STOP/START/HELP itself unless Advanced Opt-Out is turned off.
    provider_answers_keywords: bool = True

    sms_reply_window_days: int = Field(default=90, ge=1)
    sms_send_rate_per_second: float = Field(default=1.0, gt=0)
    sms_max_attempts: int = Field(default=8, ge=1)
    redis_url: str | None = None

    smtp_url: str | None = None
    email_notice_delay_seconds: int = Field(default=900, ge=0)
    reply_link_days: int = Field(default=7, ge=1)

    @cached_property
    def async_database_url(self) -> str:
        """The SQLAlchemy URL with the async driver for the configured database."""
        return to_async_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def to_async_url(url: str) -> str:
    for prefix, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url

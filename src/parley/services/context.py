"""What every use case needs from the running service."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from parley.db.engine import Database
from parley.services.batching import Batches
from parley.settings import Settings

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    # Injected so tests can move time instead of sleeping.
    clock: Clock = field(default=utcnow)
    # Set when texts are queued, so a dispatcher in this process starts at once.
    dispatch_wakeup: asyncio.Event = field(default_factory=asyncio.Event)
    # Status news written together when it arrives together (services/delivery_updates.py).
    status_news: Batches[Any, bool] | None = None
    # First visits of reply links recorded together (services/reply_page.py).
    link_openings: Batches[Any, None] | None = None
    # Reply pages asked for together, read together (services/reply_page.py).
    page_reads: Batches[Any, Any] | None = None


@dataclass(frozen=True)
class FirmScope:
    """Who is acting: a staff member of one firm. Every staff use case takes one."""

    firm_id: uuid.UUID
    staff_id: uuid.UUID

"""Headers and log hygiene for pages that carry secrets in their URL."""

from __future__ import annotations

import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_HEADERS = {
    # No script runs on these pages, and nothing loads from anywhere but here.
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}

_REPLY_TOKEN = re.compile(r"/r/[A-Za-z0-9_-]+")


class PageSecurityHeaders:
    """Adds PAGE_HEADERS to every response under the given path prefixes."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode().lower() not in PAGE_HEADERS
                ]
                headers += [(k.encode(), v.encode()) for k, v in PAGE_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class RedactReplyTokens(logging.Filter):
    """Keeps reply-link tokens out of every log line (uvicorn's access log included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                _REPLY_TOKEN.sub("/r/[redacted]", a) if isinstance(a, str) else a
                for a in (record.args if isinstance(record.args, tuple) else (record.args,))
            )
        if isinstance(record.msg, str):
            record.msg = _REPLY_TOKEN.sub("/r/[redacted]", record.msg)
        return True


def redact_tokens_in_logs() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "parley"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactReplyTokens) for f in logger.filters):
            logger.addFilter(RedactReplyTokens())

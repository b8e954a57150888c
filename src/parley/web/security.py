"""Headers and log hygiene for pages that carry secrets in their URL."""

from __future__ import annotations

import logging
import re

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Nothing loads from anywhere but here; no inline script anywhere.
NO_SCRIPT = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
OWN_SCRIPT = NO_SCRIPT + "; script-src 'self'; connect-src 'self'"
# A person's browser asks for these (the reply page, the staff app), never a program:
# each gets its policy, and a page rather than JSON when something goes wrong.
PAGE_POLICIES = {"/r/": NO_SCRIPT, "/app": OWN_SCRIPT}


def is_a_page(path: str) -> bool:
    return path.startswith(tuple(PAGE_POLICIES))


PAGE_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}

_REPLY_TOKEN = re.compile(r"/r/[A-Za-z0-9_-]+")


class PageSecurityHeaders:
    """Adds PAGE_HEADERS and a content security policy to pages under given prefixes."""

    def __init__(self, app: ASGIApp, policies: dict[str, str]) -> None:
        self.app = app
        self.policies = policies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = next(
            (p for prefix, p in self.policies.items() if scope.get("path", "").startswith(prefix)),
            None,
        )
        if scope["type"] != "http" or policy is None:
            await self.app(scope, receive, send)
            return
        added = {**PAGE_HEADERS, "content-security-policy": policy}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.decode().lower() not in added
                ]
                headers += [(k.encode(), v.encode()) for k, v in added.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class RedactReplyTokens(logging.Filter):
    """Keeps reply-link tokens out of every log line (uvicorn's access log included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        if any(_may_hold_token(a) for a in args):
            record.args = tuple(_redacted(a) if isinstance(a, str) else a for a in args)
        if _may_hold_token(record.msg):
            record.msg = _redacted(record.msg)
        return True


def _may_hold_token(value: object) -> bool:
    # Every request passes here (the access log), and few are reply pages: a substring
    # test spares them the expression's search (bench/README.md).
    return isinstance(value, str) and "/r/" in value


def _redacted(text: str) -> str:
    return _REPLY_TOKEN.sub("/r/[redacted]", text)


def redact_tokens_in_logs() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "parley"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactReplyTokens) for f in logger.filters):
            logger.addFilter(RedactReplyTokens())


def same_origin(request: Request, public_url: str) -> bool:
    """Browsers name the page a form came from; refuse forms posted from other sites."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return request.headers.get("sec-fetch-site") in (None, "same-origin", "none")
    return origin.rstrip("/") == _origin_of(public_url)


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/')[0]}"

"""How large a request body each part of the service accepts, and the 413 beyond it.

Sized to what legitimate callers send, with room to spare: Twilio's webhooks are a
few kilobytes, a reply from the page is at most 10,000 characters, and a staff API
call carries one message. Anything larger is refused before it is read into memory,
whether it announces its length or arrives in chunks without one: the declared
length is judged first, then every chunk is counted as it arrives and reading stops
at the first one past the limit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parley.web.errors import error_response
from parley.web.pages.templating import TEMPLATES

KIB = 1024

WEBHOOK_BODY_LIMIT = 64 * KIB
# A browser percent-encodes each byte of a character outside ASCII as three: a
# 10,000-character reply of four-byte characters is 120,000 bytes on the wire.
REPLY_PAGE_BODY_LIMIT = 128 * KIB
STAFF_BODY_LIMIT = 256 * KIB
DEFAULT_BODY_LIMIT = 64 * KIB

_LIMITS = (
    ("/webhooks/", WEBHOOK_BODY_LIMIT),
    ("/r/", REPLY_PAGE_BODY_LIMIT),
    ("/api/", STAFF_BODY_LIMIT),
    ("/app", STAFF_BODY_LIMIT),
)
REPLY_PAGES = "/r/"


def body_limit(path: str) -> int:
    return next((limit for prefix, limit in _LIMITS if path.startswith(prefix)), DEFAULT_BODY_LIMIT)


class _TooLarge(Exception):
    """Raised into the app from `receive`, so that it stops reading."""


class BodyLimits:
    """Answers 413 for a body over its route group's limit, before or while it is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit)
            return
        received = 0
        exceeded = started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Whatever the app makes of a body cut short (FastAPI calls it a 400), the
            # answer is ours.
            if exceeded and not started:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _refuse(scope, receive, send, limit)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the chunks are counted all the same
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    if scope["path"].startswith(REPLY_PAGES):
        # The reply page shows its errors as pages: a person is reading.
        request = Request(scope, receive)
        page = TEMPLATES.TemplateResponse(request, "reply/too_large.html", {}, status_code=413)
        await page(scope, receive, send)
        return
    message = f"The request body is larger than this endpoint accepts ({limit // KIB} KiB)."
    await error_response(413, "too_large", message)(scope, receive, send)

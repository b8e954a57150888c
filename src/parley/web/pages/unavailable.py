"""The page a person gets while the database is away: never a JSON error, never lost words.

A reply or message sent in that moment could not be saved; the page shows what was
typed in a form that sends it again, with the fields that make sending it again safe
(its form token, CSRF token and idempotency key), so one tap retries it and a retry
that meets an earlier success is answered, not posted twice.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from parley.web.pages.templating import TEMPLATES

REPLY_PAGES = "/r/"
# What a person's forms carry besides their words: kept so that sending again works.
# Nothing else a form sent is written back into the page (a password, say): a form
# with none of these (signing in) gets "try again" and a link back to its page.
KEPT_FIELDS = ("form_token", "csrf", "idempotency_key", "send_as_sms", "conversation_id")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def unavailable_page(request: Request) -> HTMLResponse:
    typed: str | None = None
    kept: list[tuple[str, str]] = []
    if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPES):
        # The route read the form before its use case met the database; this is that
        # reading, kept by the request, not a second read of the body.
        form = await request.form()
        body = form.get("body")
        typed = body if isinstance(body, str) else None
        kept = [(name, value) for name in KEPT_FIELDS if isinstance(value := form.get(name), str)]
    return TEMPLATES.TemplateResponse(
        request,
        "unavailable.html",
        {
            "for_client": request.url.path.startswith(REPLY_PAGES),
            "sent": request.method == "POST",
            "action": request.url.path,
            "typed": typed,
            "kept": kept,
        },
        status_code=503,
    )

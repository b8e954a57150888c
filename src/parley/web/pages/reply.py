"""The reply page at /r/{token}: read the conversation, answer it, no login."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from parley.domain.errors import InvalidInput, NotFound
from parley.domain.link_previews import is_link_preview
from parley.services.context import ServiceContext
from parley.services.reply_page import (
    FormForged,
    LinkExpired,
    ReplyPage,
    open_reply_page,
    reply_through_link,
    text_fresh_link,
)
from parley.web.deps import Ctx
from parley.web.pages.templating import TEMPLATES
from parley.web.rate_limits import SlidingWindow
from parley.web.security import same_origin

router = APIRouter(include_in_schema=False)


class ReplyLimits:
    """Each app's own counters: per reply token, and per client address."""

    def __init__(self) -> None:
        self.per_token = SlidingWindow(limit=30, seconds=60)
        self.per_address = SlidingWindow(limit=120, seconds=60)


def _render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


def _limited(request: Request, token: str) -> HTMLResponse | None:
    limits: ReplyLimits = request.app.state.reply_limits
    address = request.client.host if request.client else "unknown"
    if limits.per_address.allow(address) and limits.per_token.allow(token):
        return None
    response = _render(request, "reply/too_many.html", 429)
    response.headers["Retry-After"] = "60"
    return response


def _page(
    request: Request, token: str, page: ReplyPage, status: int = 200, **extra: object
) -> HTMLResponse:
    return _render(
        request,
        "reply/page.html",
        status,
        page=page,
        token=token,
        idempotency_key=uuid.uuid4().hex,
        **extra,
    )


async def reply_page(request: Request) -> Response:
    """GET /r/{token}: a plain Starlette endpoint, served on the app's lane (web/app.py)."""
    token: str = request.path_params["token"]
    ctx: ServiceContext = request.app.state.ctx
    if limited := _limited(request, token):
        return limited
    by_person = not is_link_preview(request.headers.get("user-agent"))
    try:
        page = await open_reply_page(ctx, token, by_person=by_person)
    except NotFound:
        return _render(request, "reply/not_found.html", 404)
    except LinkExpired:
        return _render(request, "reply/expired.html", 410, token=token)
    return _page(request, token, page, sent=request.query_params.get("sent") == "1")


lane_routes = [Route("/r/{token}", reply_page, methods=["GET"])]


@router.post("/r/{token}")
async def reply(
    request: Request,
    token: str,
    ctx: Ctx,
    body: Annotated[str, Form(max_length=20_000)] = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
    idempotency_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    if limited := _limited(request, token):
        return limited
    if not same_origin(request, ctx.settings.public_url):
        return _render(request, "reply/forged.html", 403)
    try:
        await reply_through_link(
            ctx,
            token,
            body=body,
            form=form_token,
            idempotency_key=idempotency_key or uuid.uuid4().hex,
        )
    except NotFound:
        return _render(request, "reply/not_found.html", 404)
    except LinkExpired:
        return _render(request, "reply/expired.html", 410, token=token)
    except FormForged:
        return _render(request, "reply/forged.html", 403)
    except InvalidInput as problem:
        page = await open_reply_page(ctx, token, by_person=False)
        return _page(request, token, page, 422, error=problem.message, typed=body)
    return RedirectResponse(f"/r/{token}?sent=1#latest", status_code=303)


@router.post("/r/{token}/fresh-link")
async def fresh_link(request: Request, token: str, ctx: Ctx) -> Response:
    if limited := _limited(request, token):
        return limited
    if not same_origin(request, ctx.settings.public_url):
        return _render(request, "reply/forged.html", 403)
    try:
        outcome = await text_fresh_link(ctx, token)
    except NotFound:
        return _render(request, "reply/not_found.html", 404)
    return _render(request, "reply/fresh_link.html", 200, outcome=outcome)

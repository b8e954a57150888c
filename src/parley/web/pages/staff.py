"""The staff web app at /app: sign in, the Messages tab, the inbox of held texts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from parley.domain.errors import Conflict, InvalidInput, NotFound
from parley.domain.segments import GSM7_BASIC, GSM7_EXTENSION, MAX_SEGMENTS
from parley.domain.sms_text import link_line
from parley.services import inbox, messages
from parley.services.reply_links import reply_link_url
from parley.services.staff_sessions import SignedIn, sign_in, sign_out, signed_in
from parley.services.staff_view import conversation_rows, open_thread
from parley.web.deps import Ctx
from parley.web.pages.templating import TEMPLATES
from parley.web.security import same_origin

router = APIRouter(prefix="/app", include_in_schema=False)

COOKIE = "parley_session"
LIVE_SECONDS = 300  # an event stream ends after this; the browser reconnects by itself


async def _staff(request: Request, ctx: Ctx) -> SignedIn | None:
    token = request.cookies.get(COOKIE)
    return await signed_in(ctx, token) if token else None


def _to_login() -> RedirectResponse:
    return RedirectResponse("/app/login", status_code=303)


def _form_ok(request: Request, ctx: Ctx, staff: SignedIn, csrf: str) -> bool:
    return same_origin(request, ctx.settings.public_url) and csrf == staff.csrf_token


def _page(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    # Each form that texts clients sends a key of this render: a double click, or the
    # same form sent again, sends one message (domain/idempotency.py).
    context.setdefault("form_key", uuid.uuid4().hex)
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status)


@router.get("/login")
async def login_page(request: Request) -> HTMLResponse:
    return _page(request, "staff/login.html")


@router.post("/login")
async def login(
    request: Request,
    ctx: Ctx,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if not same_origin(request, ctx.settings.public_url):
        return _page(request, "staff/login.html", 403, error="Please sign in from this page.")
    token = await sign_in(ctx, email, password)
    if token is None:
        return _page(
            request, "staff/login.html", 401, error="Wrong email or password.", email=email
        )
    response = RedirectResponse("/app", status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.public_url.startswith("https://"),
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, ctx: Ctx, csrf: Annotated[str, Form()] = "") -> Response:
    staff = await _staff(request, ctx)
    token = request.cookies.get(COOKIE)
    if staff is not None and token and _form_ok(request, ctx, staff, csrf):
        await sign_out(ctx, token)
    response = _to_login()
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("")
async def messages_tab(request: Request, ctx: Ctx, q: str = "") -> Response:
    staff = await _staff(request, ctx)
    if staff is None:
        return _to_login()
    rows = await conversation_rows(ctx, staff.scope, search=q)
    if rows and not q:
        return RedirectResponse(f"/app/conversations/{rows[0].id}", status_code=303)
    return _page(request, "staff/messages.html", staff=staff, rows=rows, q=q, thread=None)


@router.get("/conversations/{conversation_id}")
async def conversation_page(
    request: Request, ctx: Ctx, conversation_id: uuid.UUID, q: str = "", error: str = ""
) -> Response:
    staff = await _staff(request, ctx)
    if staff is None:
        return _to_login()
    try:
        thread = await open_thread(ctx, staff.scope, conversation_id, mark_read=True)
    except NotFound:
        return _page(request, "staff/not_found.html", 404, staff=staff)
    rows = await conversation_rows(ctx, staff.scope, search=q)
    return _page(
        request,
        "staff/messages.html",
        staff=staff,
        rows=rows,
        q=q,
        thread=thread,
        error=error,
        counter=_counter_rules(ctx, thread.firm_name, thread.segment_limit),
    )


@router.get("/conversations/{conversation_id}/thread")
async def thread_fragment(request: Request, ctx: Ctx, conversation_id: uuid.UUID) -> Response:
    staff = await _staff(request, ctx)
    if staff is None:
        return Response(status_code=401)
    try:
        thread = await open_thread(ctx, staff.scope, conversation_id, mark_read=True)
    except NotFound:
        return Response(status_code=404)
    return _page(request, "staff/thread.html", staff=staff, thread=thread)


@router.get("/conversations/{conversation_id}/events")
async def thread_events(request: Request, ctx: Ctx, conversation_id: uuid.UUID) -> Response:
    """Server-sent events: "changed" whenever anything the thread shows has changed."""
    staff = await _staff(request, ctx)
    if staff is None:
        return Response(status_code=401)
    try:
        first = await open_thread(ctx, staff.scope, conversation_id, mark_read=False)
    except NotFound:
        return Response(status_code=404)

    async def events() -> AsyncIterator[str]:
        seen = first.fingerprint
        yield "retry: 2000\n\n"
        for _ in range(int(LIVE_SECONDS / 0.5)):
            if await request.is_disconnected():
                return
            await asyncio.sleep(0.5)
            thread = await open_thread(ctx, staff.scope, conversation_id, mark_read=False)
            if thread.fingerprint != seen:
                seen = thread.fingerprint
                yield "event: changed\ndata: {}\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.post("/conversations/{conversation_id}/messages")
async def write_message(
    request: Request,
    ctx: Ctx,
    conversation_id: uuid.UUID,
    body: Annotated[str, Form(max_length=20_000)] = "",
    send_as_sms: Annotated[bool, Form()] = False,
    csrf: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    staff = await _staff(request, ctx)
    if staff is None:
        return _to_login()
    if not _form_ok(request, ctx, staff, csrf):
        return _page(request, "staff/forbidden.html", 403, staff=staff)
    try:
        await messages.post_staff_message(
            ctx,
            staff.scope,
            conversation_id,
            body=body,
            send_as_sms=send_as_sms,
            idempotency_key=idempotency_key,
        )
    except InvalidInput as problem:
        return await _conversation_with_error(request, ctx, staff, conversation_id, problem)
    except NotFound:
        return _page(request, "staff/not_found.html", 404, staff=staff)
    return RedirectResponse(f"/app/conversations/{conversation_id}#latest", status_code=303)


@router.post("/messages/{message_id}/resend-sms")
async def resend(
    request: Request,
    ctx: Ctx,
    message_id: uuid.UUID,
    csrf: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str | None, Form()] = None,
) -> Response:
    staff = await _staff(request, ctx)
    if staff is None:
        return _to_login()
    if not _form_ok(request, ctx, staff, csrf):
        return _page(request, "staff/forbidden.html", 403, staff=staff)
    try:
        resent = await messages.resend_as_sms(
            ctx, staff.scope, message_id, idempotency_key=idempotency_key
        )
    except (NotFound, InvalidInput):
        return _page(request, "staff/not_found.html", 404, staff=staff)
    return RedirectResponse(f"/app/conversations/{resent.message.conversation_id}", status_code=303)


@router.get("/inbox")
async def inbox_page(request: Request, ctx: Ctx) -> Response:
    staff = await _staff(request, ctx)
    if staff is None:
        return _to_login()
    page = await inbox.list_inbox(ctx, staff.scope, limit=100, cursor=None)
    rows = await conversation_rows(ctx, staff.scope, limit=500)
    return _page(request, "staff/inbox.html", staff=staff, items=page.items, rows=rows)


@router.post("/inbox/{item_id}/file")
async def file_held_text(
    request: Request,
    ctx: Ctx,
    item_id: uuid.UUID,
    conversation_id: Annotated[uuid.UUID, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    staff = await _staff(request, ctx)
    if staff is None:
        return _to_login()
    if not _form_ok(request, ctx, staff, csrf):
        return _page(request, "staff/forbidden.html", 403, staff=staff)
    try:
        await inbox.file_from_inbox(
            ctx, staff.scope, item_id, conversation_id=conversation_id, contact_id=None
        )
    except (InvalidInput, Conflict) as problem:
        page = await inbox.list_inbox(ctx, staff.scope, limit=100, cursor=None)
        rows = await conversation_rows(ctx, staff.scope, limit=500)
        return _page(
            request,
            "staff/inbox.html",
            422,
            staff=staff,
            items=page.items,
            rows=rows,
            error=problem.message,
        )
    except NotFound:
        return _page(request, "staff/not_found.html", 404, staff=staff)
    return RedirectResponse(f"/app/conversations/{conversation_id}#latest", status_code=303)


async def _conversation_with_error(
    request: Request, ctx: Ctx, staff: SignedIn, conversation_id: uuid.UUID, problem: InvalidInput
) -> Response:
    thread = await open_thread(ctx, staff.scope, conversation_id, mark_read=False)
    rows = await conversation_rows(ctx, staff.scope)
    return _page(
        request,
        "staff/messages.html",
        422,
        staff=staff,
        rows=rows,
        q="",
        thread=thread,
        error=problem.message,
        counter=_counter_rules(ctx, thread.firm_name, thread.segment_limit),
    )


def _counter_rules(ctx: Ctx, firm_name: str, segment_limit: int) -> dict[str, str | int]:
    """What the compose counter needs to count exactly as the server will."""
    sample_link = reply_link_url(ctx.settings, uuid.UUID(int=0))
    return {
        "gsm_basic": "".join(sorted(GSM7_BASIC)),
        "gsm_extension": "".join(sorted(GSM7_EXTENSION)),
        "head": f"{firm_name}: ",
        "tail": link_line(sample_link),
        "limit": min(segment_limit, MAX_SEGMENTS),
    }

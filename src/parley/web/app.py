"""The Parley web application: API, webhooks, reply pages and staff UI in one ASGI app."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from parley.db.engine import Database
from parley.dispatch.runner import run_dispatcher
from parley.process import tune_garbage_collection
from parley.services.context import ServiceContext
from parley.services.reply_page import finish_recording_openings
from parley.settings import Settings
from parley.simulator.mount import simulator_for
from parley.web.api.routes import router as api_router
from parley.web.body_limits import BodyLimits
from parley.web.errors import install_error_handlers
from parley.web.pages.app_links import router as app_links_router
from parley.web.pages.dev_mailbox import router as dev_mailbox_router
from parley.web.pages.reply import ReplyLimits
from parley.web.pages.reply import lane_routes as reply_lane_routes
from parley.web.pages.reply import router as reply_router
from parley.web.pages.staff import router as staff_router
from parley.web.security import PAGE_POLICIES, PageSecurityHeaders, redact_tokens_in_logs
from parley.web.webhooks.twilio import router as twilio_router

STATIC = Path(__file__).parent / "static"
WEBHOOKS = "/webhooks/"


class ParleyApp(FastAPI):
    """FastAPI for the API and most pages; the busiest requests on a bare Starlette lane.

    The lane serves Twilio's webhooks and the reply page's GET, with the same error
    handlers, body limits and page headers and none of FastAPI's routing and
    dependency layers, which cost more than those requests' own work (bench/README.md).
    Everything under /webhooks/ goes on the lane (so a GET there is told to POST);
    a page request only when one of the lane's page routes matches path and method.
    """

    def __init__(
        self,
        *,
        webhook_routes: list[APIRoute],
        page_routes: list[Route],
        ctx: ServiceContext,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        # Declared on a FastAPI router for the OpenAPI document; served by the lane.
        self.webhook_routes = webhook_routes
        self.page_routes = page_routes
        webhooks = [
            Route(r.path, r.endpoint, methods=sorted(r.methods or ())) for r in webhook_routes
        ]
        self.lane = Starlette(
            routes=[*webhooks, *page_routes],
            middleware=[
                Middleware(PageSecurityHeaders, policies=PAGE_POLICIES),
                Middleware(BodyLimits),
            ],
        )
        self.lane.state = self.state  # one app to its endpoints: the same ctx and counters
        self.state.ctx = ctx
        install_error_handlers(self.lane)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            scope["path"].startswith(WEBHOOKS)
            or any(route.matches(scope)[0] is Match.FULL for route in self.page_routes)
        ):
            await self.lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        if not self.openapi_schema:
            self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                summary=self.summary,
                routes=[*self.routes, *self.webhook_routes],
            )
        return self.openapi_schema


def create_app(
    settings: Settings | None = None,
    *,
    ctx: ServiceContext | None = None,
    with_dispatcher: bool = False,
    with_simulator: bool = False,
) -> ParleyApp:
    """The app; optionally with the dispatcher in-process and the simulator at /sim."""
    # A context handed in belongs to the caller (tests, the demo); one made here is ours.
    owns_db = ctx is None
    if ctx is None:
        settings = settings or Settings()
        ctx = ServiceContext(settings=settings, db=Database(settings.database_url))
    service = ctx

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        tune_garbage_collection()
        stop = asyncio.Event()
        dispatcher = asyncio.create_task(run_dispatcher(service, stop)) if with_dispatcher else None
        try:
            yield
        finally:
            stop.set()
            if dispatcher is not None:
                await dispatcher
            await finish_recording_openings(service)
            if owns_db:
                await service.db.dispose()

    app = ParleyApp(
        webhook_routes=[r for r in twilio_router.routes if isinstance(r, APIRoute)],
        page_routes=reply_lane_routes,
        ctx=ctx,
        title="Parley",
        summary="Client messaging for law firms: matter conversations and two-way SMS.",
        version="1",
        lifespan=lifespan,
    )
    app.state.reply_limits = ReplyLimits()
    install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(reply_router)
    app.include_router(app_links_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(staff_router)
    app.add_middleware(BodyLimits)
    # Added last, so outermost: the 413 page of the reply link carries the headers too.
    app.add_middleware(PageSecurityHeaders, policies=PAGE_POLICIES)
    redact_tokens_in_logs()
    if with_simulator:
        # The demo's helpers: a carrier at /sim (with its phones page) and the mailbox.
        app.mount("/sim", simulator_for(ctx.settings))
        app.include_router(dev_mailbox_router)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> JSONResponse:
        try:
            async with service.db.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception as error:  # any database failure means "not healthy"
            return JSONResponse({"status": "unavailable", "database": str(error)[:200]}, 503)
        return JSONResponse({"status": "ok"})

    return app

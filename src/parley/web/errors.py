"""Every error leaves as `{"error": {"code", "message"}}` with the status that fits it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

from parley.db.engine import is_database_unavailable
from parley.domain.errors import Conflict, InvalidInput, NotFound, ParleyError
from parley.web.pages.unavailable import unavailable_page
from parley.web.security import is_a_page

UNAVAILABLE_RETRY_SECONDS = 5
_STATUS = {NotFound: 404, InvalidInput: 422, Conflict: 409}

_MEANINGS = {
    401: "No valid API token.",
    403: "Refused: the request is not signed, or not by who it claims.",
    404: "Not found, or belongs to another firm.",
    409: "Conflicts with what is already recorded.",
    413: "The request body is too large.",
    415: "The request body is not of the media type this endpoint reads.",
    422: "The request is not valid; the message says what to change.",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    """What every refusal carries, whatever its status."""

    error: ErrorDetail


def documented_errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these refusals, so clients see the shape they will get."""
    return {status: {"model": ErrorOut, "description": _MEANINGS[status]} for status in statuses}


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def install_error_handlers(app: Starlette) -> None:
    """On the FastAPI app and on the webhooks' own lane alike."""

    async def parley_error(_: Request, error: ParleyError) -> JSONResponse:
        status = next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 400)
        extra = {"field": error.field} if isinstance(error, InvalidInput) and error.field else {}
        return error_response(status, error.code, error.message, **extra)

    async def database_away(request: Request, error: Exception) -> Response:
        if not is_database_unavailable(error):
            raise error
        response: Response
        if is_a_page(request.url.path):
            response = await unavailable_page(request)
        else:
            response = error_response(
                503,
                "unavailable",
                "The database is not answering just now; please send this again in a moment.",
            )
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response

    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [_describe(e) for e in error.errors()]
        return error_response(422, "invalid_input", " ".join(problems))

    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400 and isinstance(error.__cause__, UnicodeDecodeError):
            # Bytes that are not UTF-8 are as much "not JSON" as a missing brace.
            return error_response(422, "invalid_input", "The request body is not valid JSON.")
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            415: "unsupported_media_type",
            429: "too_many_requests",
        }.get(error.status_code, "error")
        response = error_response(error.status_code, code, str(error.detail))
        if error.headers:
            response.headers.update(error.headers)
        if error.status_code == 405:
            response.headers["Allow"] = _allowed_methods(request)
        return response

    handlers: dict[type[Exception], Callable[[Request, Any], Awaitable[Response]]] = {
        ParleyError: parley_error,
        DBAPIError: database_away,
        OSError: database_away,
        asyncpg.InterfaceError: database_away,
        asyncpg.PostgresError: database_away,
        PoolTimeout: database_away,
        RequestValidationError: invalid_request,
        HTTPException: http_error,
    }
    for kind, handler in handlers.items():
        app.add_exception_handler(kind, handler)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers to; Starlette names only those of its first route."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches(request.scope)
            if match is not Match.NONE:
                methods |= route.methods
    return ", ".join(sorted(methods))


def _describe(error: Any) -> str:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    where = ".".join(location)
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"Unknown field {where!r}."
    if kind == "missing":
        return f"The field {where!r} is required."
    if kind == "json_invalid":
        return "The request body is not valid JSON."
    message = str(error.get("msg", "is invalid"))
    return f"{where}: {message}." if where else f"{message}."

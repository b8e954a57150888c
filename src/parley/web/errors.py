"""Every error leaves as `{"error": {"code", "message"}}` with the status that fits it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from parley.domain.errors import Conflict, InvalidInput, NotFound, ParleyError

_STATUS = {NotFound: 404, InvalidInput: 422, Conflict: 409}


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ParleyError)
    async def parley_error(_: Request, error: ParleyError) -> JSONResponse:
        status = next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 400)
        extra = {"field": error.field} if isinstance(error, InvalidInput) and error.field else {}
        return error_response(status, error.code, error.message, **extra)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        problems = [_describe(e) for e in error.errors()]
        return error_response(422, "invalid_input", " ".join(problems))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        code = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            429: "too_many_requests",
        }.get(error.status_code, "error")
        response = error_response(error.status_code, code, str(error.detail))
        if error.headers:
            response.headers.update(error.headers)
        return response


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

"""Request dependencies: the service context and the authenticated staff member."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from parley.services.context import FirmScope, ServiceContext
from parley.services.firms import authenticate_api_token

_bearer = HTTPBearer(auto_error=False, description="The staff member's API token.")


async def service_context(request: Request) -> ServiceContext:
    # async: FastAPI would run a plain function in its thread pool on every request.
    ctx: ServiceContext = request.app.state.ctx
    return ctx


async def staff_scope(
    ctx: Annotated[ServiceContext, Depends(service_context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> FirmScope:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "Sign in: send 'Authorization: Bearer <api token>'.", challenge)
    scope = await authenticate_api_token(ctx, credentials.credentials)
    if scope is None:
        raise HTTPException(401, "The API token is not valid.", challenge)
    return scope


Ctx = Annotated[ServiceContext, Depends(service_context)]
Staff = Annotated[FirmScope, Depends(staff_scope)]

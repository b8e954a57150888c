"""Association files that let the firm's installed app open /r/ links itself."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from parley.web.deps import Ctx

router = APIRouter(include_in_schema=False)


@router.get("/.well-known/apple-app-site-association")
async def apple_app_site_association(ctx: Ctx) -> JSONResponse:
    app_ids = ctx.settings.ios_app_ids
    if not app_ids:
        raise HTTPException(404, "No iOS app is configured.")
    return JSONResponse(
        {
            "applinks": {
                "apps": [],
                "details": [{"appIDs": app_ids, "components": [{"/": "/r/*"}], "paths": ["/r/*"]}],
            }
        }
    )


@router.get("/.well-known/assetlinks.json")
async def android_asset_links(ctx: Ctx) -> JSONResponse:
    settings = ctx.settings
    if not settings.android_package or not settings.android_cert_fingerprints:
        raise HTTPException(404, "No Android app is configured.")
    return JSONResponse(
        [
            {
                "relation": ["delegate_permission/common.handle_all_urls"],
                "target": {
                    "namespace": "android_app",
                    "package_name": settings.android_package,
                    "sha256_cert_fingerprints": settings.android_cert_fingerprints,
                },
            }
        ]
    )

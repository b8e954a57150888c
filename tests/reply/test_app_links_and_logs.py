"""App association files from settings, and reply tokens kept out of logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from parley.services.context import ServiceContext
from parley.web.security import RedactReplyTokens


async def test_association_files_are_404_until_an_app_is_configured(
    api: httpx.AsyncClient,
) -> None:
    assert (await api.get("/.well-known/apple-app-site-association")).status_code == 404
    assert (await api.get("/.well-known/assetlinks.json")).status_code == 404


async def test_ios_association_names_the_app_and_the_reply_paths(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    ctx.settings.ios_app_ids = ["ABCDE12345.com.halemarsh.portal"]
    served = (await api.get("/.well-known/apple-app-site-association")).json()
    (details,) = served["applinks"]["details"]
    assert details["appIDs"] == ["ABCDE12345.com.halemarsh.portal"]
    assert details["components"] == [{"/": "/r/*"}]


async def test_android_asset_links_name_the_package_and_fingerprints(
    api: httpx.AsyncClient, ctx: ServiceContext
) -> None:
    ctx.settings.android_package = "com.halemarsh.portal"
    ctx.settings.android_cert_fingerprints = ["14:6D:E9:83"]
    (statement,) = (await api.get("/.well-known/assetlinks.json")).json()
    assert statement["target"] == {
        "namespace": "android_app",
        "package_name": "com.halemarsh.portal",
        "sha256_cert_fingerprints": ["14:6D:E9:83"],
    }


@pytest.mark.parametrize(
    ("message", "args"),
    [
        ('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", "/r/Abc_12-xyZ", "1.1", 200)),
        ("opened /r/Abc_12-xyZ?sent=1", ()),
    ],
)
def test_reply_tokens_never_reach_the_logs(message: str, args: tuple[object, ...]) -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args, None)
    RedactReplyTokens().filter(record)
    assert "Abc_12-xyZ" not in record.getMessage()
    assert "/r/[redacted]" in record.getMessage()

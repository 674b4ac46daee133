"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets installed with the package, so that both
work on a network without internet access (a government intranet).

The scripts and styles are those the ``fastapi-offline`` distribution ships (MIT; Swagger UI and
ReDoc are Apache-2.0 and MIT), served under ``/docs/assets/``. Each page carries a Content Security
Policy that allows what it needs and nothing more: scripts from this origin (and, for Swagger UI,
its one inline start-up script by hash), the OpenAPI document and "try it out" requests to this
origin, inline styles and ``data:`` images (both UIs draw icons so), a ``blob:`` worker for ReDoc's
search; no other origin, no framing.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from importlib import metadata, resources

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

from certsvc.errors import NotFound

ASSETS_PACKAGE = "fastapi_offline"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_VERSION = metadata.version("fastapi-offline")
_COMMON = (
    "default-src 'none'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def asset_url(name: str) -> str:
    """Where an asset is served; the package version in the query makes a new version a new URL."""
    return f"/docs/assets/{name}?v={_VERSION}"


@lru_cache(maxsize=len(ASSETS))
def _asset(name: str) -> bytes:
    return (resources.files(ASSETS_PACKAGE) / "static" / name).read_bytes()


def _csp_hashes(html: str) -> str:
    hashes = []
    for script in _INLINE_SCRIPT.findall(html):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    return " ".join(hashes)


def _page(html: str, script_src: str, extra: str = "") -> HTMLResponse:
    csp = f"{_COMMON}; script-src {script_src}{extra}"
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-cache",
    }
    return HTMLResponse(html, headers=headers)


@lru_cache(maxsize=1)
def _swagger_html(openapi_url: str, title: str) -> str:
    return bytes(
        get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url=asset_url("swagger-ui-bundle.js"),
            swagger_css_url=asset_url("swagger-ui.css"),
            swagger_favicon_url=asset_url("favicon.png"),
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": False},
        ).body
    ).decode()


@lru_cache(maxsize=1)
def _redoc_html(openapi_url: str, title: str) -> str:
    return bytes(
        get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            redoc_js_url=asset_url("redoc.standalone.js"),
            redoc_favicon_url=asset_url("favicon.png"),
            with_google_fonts=False,
        ).body
    ).decode()


def install(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets (create the app with ``docs_url=None, redoc_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"
    router = APIRouter(include_in_schema=False)

    @router.get("/docs", response_class=HTMLResponse)
    def swagger_ui() -> HTMLResponse:
        """Swagger UI over this service's OpenAPI document, from the installed assets."""
        html = _swagger_html(openapi_url, app.title)
        return _page(html, f"'self' {_csp_hashes(html)}")

    @router.get("/redoc", response_class=HTMLResponse)
    def redoc() -> HTMLResponse:
        """ReDoc over this service's OpenAPI document, from the installed assets."""
        return _page(_redoc_html(openapi_url, app.title), "'self'", "; worker-src blob:")

    @router.get("/docs/assets/{name}", response_class=Response)
    def docs_asset(name: str) -> Response:
        """One of the installed Swagger UI and ReDoc files; 404 for any other name."""
        media_type = ASSETS.get(name)
        if media_type is None:
            raise NotFound("no such documentation asset")
        return Response(
            _asset(name),
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

    app.include_router(router)

"""Public pages and APIs: no authentication, no personal data."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from certsvc.api.deps import AtQuery, CtxDep
from certsvc.api.head import is_head
from certsvc.api.limits import size_text
from certsvc.api.models import (
    EnterprisePage,
    ErrorBody,
    Jwks,
    LinkErrorBody,
    PublicLicence,
    SharePage,
    error_responses,
    media,
)
from certsvc.api.paging import PageDep
from certsvc.api.responses import content_disposition
from certsvc.errors import BadRequest, Invalid, TooLarge
from certsvc.identifiers import uscc_words
from certsvc.licences.lookup import scan_view
from certsvc.metrics import PAGE_SCANS
from certsvc.verification.revocation import TSA_QUERY_MAX, Published, ca_certificate, current_crl, time_stamp
from certsvc.web import render

router = APIRouter(tags=["public"])


def wants_json(request: Request) -> bool:
    """Whether the caller asked for JSON rather than a page: ``Accept`` names JSON and not HTML."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


NOT_OURS = {"genuine": False, "error": {"code": "not_found", "message": "this code is not a licence of this service"}}


def _page(model: type, description: str, *errors: int, error_model: type[ErrorBody] = ErrorBody) -> dict[str, Any]:
    """A page that is HTML for browsers and ``model`` as JSON for ``Accept: application/json``.

    The routes return their responses themselves (the QR scan is the hottest path), so the model
    documents the JSON answer without being applied to it.
    """
    html = media("text/html", description)[200]["content"]
    return {
        "response_model": model,
        "responses": {
            200: {"description": description, "content": html},
            **error_responses(*errors, model=error_model),
        },
    }


@router.get("/v/{token}", **_page(PublicLicence, "The licence a QR code names", 404, error_model=LinkErrorBody))
async def verify_page(token: str, request: Request, ctx: CtxDep, at: AtQuery = None) -> Response:
    """The page a licence's QR code opens. One indexed query (with the trust list's version, for keys
    revoked since), or none when this process holds the view (PostgreSQL: dropped on every change,
    in every process); the scan is counted in memory. With ``at`` (ISO-8601; without an offset it is
    China time), the status as of that moment."""
    found = await scan_view(ctx.read_engine, ctx.public_views, token, ctx.settings.public_base_url, at)
    if found is None:
        if wants_json(request):
            return JSONResponse(NOT_OURS, status_code=404)
        return HTMLResponse(render("not_found.html", request=request), status_code=404)
    licence_id, view = found
    ctx.scans.add(licence_id)
    PAGE_SCANS.inc()
    if wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render("licence.html", request=request, v=view))


@router.get("/e/{uscc}", **_page(EnterprisePage, "Every licence held under the USCC (一码展示)", 404, 422))
def enterprise_page(uscc: str, request: Request, ctx: CtxDep, page: PageDep) -> Response:
    """一码展示: every licence of the holder, current ones first (the business licence first of all), newest
    first, a page at a time (``limit``, ``cursor``); the page links to the next one. 422 naming ``uscc`` for a
    code that is not a valid USCC, 404 for one that holds no licence here."""
    from certsvc.enterprises.holders import public_holder_view

    try:
        with Session(ctx.engine) as s:
            view = public_holder_view(s, uscc, ctx.settings.public_base_url, page)
    except Invalid as e:
        if wants_json(request):
            raise
        words = {"reason": e.message.removeprefix("uscc: "), "reason_zh": uscc_words(uscc)}
        html = render("not_found.html", request=request, what="uscc", code=uscc, **words)
        return HTMLResponse(html, status_code=422)
    if view is None:
        if wants_json(request):
            return JSONResponse(
                {"error": {"code": "not_found", "message": "no licences of this code are held at this service"}},
                status_code=404,
            )
        return HTMLResponse(render("not_found.html", request=request, what="holder", code=uscc), status_code=404)
    if wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render("enterprise.html", request=request, e=view))


@router.get("/s/{token}", **_page(SharePage, "The licences a share link grants", 404, 410, error_model=LinkErrorBody))
def share_page(token: str, request: Request, ctx: CtxDep) -> Response:
    """The grantee's page: who shared what, for which purpose, until when; download buttons."""
    from certsvc.sharing.copies import share_view

    with Session(ctx.engine) as s:
        view = share_view(s, token, ctx.settings.public_base_url)
    if view.get("error"):
        status = 404 if view["state"] == "unknown" else 410
        if wants_json(request):
            return JSONResponse({"error": view["error"], "state": view["state"]}, status_code=status)
        return HTMLResponse(render("share_gone.html", request=request, v=view), status_code=status)
    if wants_json(request):
        return JSONResponse(view)
    return HTMLResponse(render("share.html", request=request, v=view))


@router.get(
    "/s/{token}/qr.png",
    response_class=Response,
    responses={**media("image/png", "The share link as a QR code"), **error_responses(404)},
)
def share_qr(token: str, ctx: CtxDep) -> Response:
    """The share link as a PNG QR code, to print or show; 404 for a link that does not exist."""
    from certsvc.api.responses import qr_png
    from certsvc.sharing.grants import grant_by_token

    with Session(ctx.engine) as s:
        grant_by_token(s, token)  # 404 for unknown links: no QR for arbitrary text
    return Response(
        qr_png(f"{ctx.settings.public_base_url}/s/{token}"),
        media_type="image/png",
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/s/{token}/licences/{licence_id}.pdf",
    response_class=Response,
    responses={
        **media("application/pdf", "A copy marked for the grantee and purpose (加注件)"),
        **error_responses(404, 409, 410),
    },
)
async def share_download(token: str, licence_id: str, request: Request, ctx: CtxDep) -> Response:
    """Download a shared licence as a copy marked for the grantee and purpose (加注件); each download counts.
    410 once the grant is revoked, expired or used up; 409 when the licence is not valid now. ``HEAD``
    answers the same checks and headers (no ``Content-Length``) and spends no download."""
    from certsvc.sharing.copies import download_marked_copy, marked_copy_name

    headers = {"Cache-Control": "no-store"}
    if is_head(request):
        headers["Content-Disposition"] = content_disposition(marked_copy_name(ctx, token, licence_id))
        head = Response(media_type="application/pdf", headers=headers)
        del head.headers["content-length"]  # the size is known only once the copy is marked
        return head
    copy = await download_marked_copy(ctx, token, licence_id)
    headers["Content-Disposition"] = content_disposition(copy.filename)
    return Response(copy.pdf, media_type="application/pdf", headers=headers)


@router.get("/trust-list", include_in_schema=False)
def trust_list_alias(request: Request, response: Response, ctx: CtxDep) -> Any:
    """The trust list at the short path too (as ``/api/v1/trust-list``); left out of the OpenAPI document."""
    from certsvc.api.routes.verification import get_trust_list

    return get_trust_list(request, response, ctx)


@router.get("/status-list", include_in_schema=False)
def status_list_alias(request: Request, response: Response, ctx: CtxDep) -> Any:
    """The status list at the short path too (as ``/api/v1/status-list``); left out of the OpenAPI document."""
    from certsvc.api.routes.verification import get_status_list

    return get_status_list(request, response, ctx)


@router.get("/.well-known/jwks.json", response_model=Jwks, response_model_exclude_unset=True)
def get_jwks(ctx: CtxDep) -> dict[str, Any]:
    """The public keys that sign QR payloads, status lists and events (rotated ones too), each with ``kid``
    (as in the QR payload's COSE header and the JWT header), ``x5c`` (its certificate, then the root),
    ``use`` and ``alg``."""
    from certsvc.verification.lists import jwks

    return jwks(ctx)


def _published(obj: Published, media_type: str, request: Request) -> Response:
    headers = {"Cache-Control": f"public, max-age={obj.max_age}", "ETag": obj.etag}
    if obj.expires is not None:
        headers["Expires"] = format_datetime(obj.expires, usegmt=True)
    if request.headers.get("if-none-match") == obj.etag:
        return Response(status_code=304, headers=headers)
    return Response(obj.der, media_type=media_type, headers=headers)


@router.get(
    "/crl/{name}.crl",
    response_class=Response,
    responses={**media("application/pkix-crl", "The DER CRL of the CA called name"), **error_responses(404)},
)
def crl(name: str, request: Request, ctx: CtxDep) -> Response:
    """The CRL of the service's CA ``name`` (``root``), as named in every certificate's CRL
    distribution points: re-issued at once when a key is revoked, and before its nextUpdate."""
    return _published(current_crl(ctx, name), "application/pkix-crl", request)


@router.get(
    "/ca/{name}.crt",
    response_class=Response,
    responses={**media("application/pkix-cert", "The DER certificate of the CA called name"), **error_responses(404)},
)
def ca_certificate_der(name: str, request: Request, ctx: CtxDep) -> Response:
    """The certificate of the service's CA ``name`` (``root``), as named in every certificate's AIA."""
    return _published(ca_certificate(ctx, name), "application/pkix-cert", request)


@router.post(
    "/tsa",
    response_class=Response,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/timestamp-query": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={**media("application/timestamp-reply", "An RFC 3161 TimeStampResp"), **error_responses(400, 413)},
)
async def tsa(request: Request, ctx: CtxDep) -> Response:
    """The service's RFC 3161 time-stamping authority: a DER ``TimeStampReq``
    (``application/timestamp-query``, at most 4 KB) in, a DER ``TimeStampResp`` out (a rejection
    for an unsupported hash or policy); 400 for anything that is not a query."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/timestamp-query":
        raise BadRequest("expected Content-Type: application/timestamp-query")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > TSA_QUERY_MAX:
            raise TooLarge(f"a time-stamp query is at most {size_text(TSA_QUERY_MAX)}")
    reply = await run_in_threadpool(time_stamp, ctx, body)  # the key may sit in an HSM: off the event loop
    return Response(reply, media_type="application/timestamp-reply", headers={"Cache-Control": "no-store"})

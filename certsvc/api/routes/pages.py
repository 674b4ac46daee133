"""The public's own pages: ``/`` (what the service is) and ``/verify`` (upload a PDF or paste QR
text, see the verdict, download a sealed verification report). No scripts; errors are pages."""

from __future__ import annotations

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from certsvc.api.deps import CallerDep, CtxDep
from certsvc.api.errors import http_status, retry_after_header
from certsvc.api.head import is_head
from certsvc.api.models import error_responses, media
from certsvc.api.portal.pages import page
from certsvc.api.responses import content_disposition
from certsvc.api.uploads import read_pdf_upload
from certsvc.context import Context
from certsvc.errors import ServiceError
from certsvc.verification import reports

router = APIRouter(tags=["pages"])

_TITLES = {
    404: ("未找到", "Not found"),
    410: ("链接已过期", "Link expired"),
    413: ("文件过大", "File too large"),
    422: ("请检查所提交的内容", "Please check what you sent"),
    429: ("核验请求过多，请稍后再试", "Too many verifications; try again shortly"),
    503: ("核验服务繁忙，请稍后再试", "The verifiers are busy; try again shortly"),
}


def _html(description: str, *errors: int) -> dict:
    """A page route's OpenAPI: HTML, and its errors as HTML pages too (the form with the reason)."""
    refused = {
        status: {"description": f"{_TITLES[status][1]}: the form again, with the reason", "content": _HTML_BODY}
        for status in errors
    }
    return {"response_class": HTMLResponse, "responses": {**media("text/html", description), **refused}}


_HTML_BODY = {"text/html": {"schema": {"type": "string"}}}


def _form(ctx: Context, e: ServiceError | None = None, *, tab: str = "pdf") -> HTMLResponse:
    """The /verify page; with ``e``, the reason the last attempt was refused, and its 4xx (or 503)."""
    if e is None:
        return page(ctx, "verify.html", tab=tab, limit_mb=ctx.settings.max_upload_bytes // (1024 * 1024))
    status = http_status(e) or 400
    status = status if 400 <= status < 600 else 400
    zh, en = _TITLES.get(status, ("无法核验", "Cannot verify"))
    resp = page(
        ctx,
        "verify.html",
        status,
        tab=tab,
        limit_mb=ctx.settings.max_upload_bytes // (1024 * 1024),
        error={"zh": zh, "en": en, "message": e.message, "field": e.field},
    )
    resp.headers.update(retry_after_header(e) or {})
    return resp


@router.get("/", **_html("What the service is, with links to verification, the catalogue and the trust list"))
def home(ctx: CtxDep) -> HTMLResponse:
    """The front page: what the service does, in Chinese and English, and where to go."""
    return page(ctx, "home.html", base=ctx.settings.public_base_url)


@router.get("/verify", **_html("The verification page: upload a PDF or paste the text of a QR code"))
def verify_form(ctx: CtxDep) -> HTMLResponse:
    """The form to upload a PDF (multipart field ``file``) or paste QR text; works without scripts."""
    return _form(ctx)


@router.post(
    "/verify",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
                }
            },
        }
    },
    **_html("The verdict on the uploaded PDF as a page, with its checks and the report link", 413, 422, 429, 503),
)
async def verify_page_upload(
    request: Request, ctx: CtxDep, caller: CallerDep, file: UploadFile | None = File(default=None)
) -> HTMLResponse:
    """Verify an uploaded PDF as ``POST /api/v1/verify`` does (same limits, workers and answer) and
    show the verdict; a missing, empty, oversized or non-PDF upload answers the form with the reason."""
    try:
        data = await read_pdf_upload(request, file, ctx.settings.max_upload_bytes)
        checked = await reports.check_pdf(ctx, data, caller)
    except ServiceError as e:
        return _form(ctx, e)
    return page(ctx, "verify_result.html", c=checked, a=checked.answer, b=checked.banner)


@router.post("/verify/qr", **_html("The verdict on pasted QR text as a page", 422))
def verify_page_qr(ctx: CtxDep, text: str = Form(default="")) -> HTMLResponse:
    """Verify pasted QR text as ``POST /api/v1/verify/qr`` does and show the verdict."""
    try:
        checked = reports.check_qr(ctx, text)
    except ServiceError as e:
        return _form(ctx, e, tab="qr")
    return page(ctx, "verify_result.html", c=checked, a=checked.answer, b=checked.banner)


@router.get(
    "/verify/reports/{report_id}.pdf",
    response_class=Response,
    responses={
        **media("application/pdf", "The verification report (验证报告), sealed by the service"),
        **error_responses(404, 410),
    },
)
async def verification_report_pdf(report_id: str, request: Request, ctx: CtxDep) -> Response:
    """The sealed verification report of a check made on ``/verify``: sealed on its first download,
    the same PDF afterwards; 410 once the link (24 hours) has expired. ``HEAD`` seals nothing: before
    the first download it answers the headers without ``Content-Length``."""
    if is_head(request):
        sealed, name = reports.report_head(ctx, report_id)
    else:
        sealed, name = await reports.report_pdf(ctx, report_id)
    headers = {"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"}
    if sealed is not None:
        return Response(sealed, media_type="application/pdf", headers=headers)
    head = Response(media_type="application/pdf", headers=headers)
    del head.headers["content-length"]  # the size is known only once the report is sealed
    return head

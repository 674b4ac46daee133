"""The portal's signing page: upload a PDF, choose the page and where the seal goes, get it back signed.

The form is multipart (the file) and works without scripts. The upload is bounded like the API's:
refused on its declared length before anything is read, and again on what arrives.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from certsvc.api.deps import CtxDep
from certsvc.api.portal import session as web_session
from certsvc.api.portal.pages import error_page, error_status, page
from certsvc.api.responses import content_disposition
from certsvc.api.uploads import read_pdf_upload
from certsvc.db.session import session_scope
from certsvc.enterprises.sessions import PortalSession
from certsvc.enterprises.signature import sign_for_enterprise, signed_filename
from certsvc.enterprises.signing_form import SIGN_POSITIONS, sign_form_problem, sign_options
from certsvc.errors import ServiceError

router = APIRouter(prefix="/portal", include_in_schema=False)

TEXT_FIELDS = ("csrf", "page", "position", "x", "y", "reason", "location")
FORM_OVERHEAD = 64 * 1024  # the text fields and multipart boundaries around the file


def _page(ctx: Any, sess: PortalSession, status: int = 200, **context: Any) -> HTMLResponse:
    form = context.pop("form", {})
    return page(ctx, "portal_sign.html", status, s=sess, nav="sign", positions=SIGN_POSITIONS, form=form, **context)


@router.get("/sign", response_class=HTMLResponse)
def sign_page(request: Request, ctx: CtxDep) -> Response:
    """The signing form."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
    if sess is None:
        return web_session.not_signed_in(ctx)
    return _page(ctx, sess)


@router.post("/sign", response_class=Response)
async def sign_upload(request: Request, ctx: CtxDep) -> Response:
    """Sign the uploaded PDF as the form says: the signed PDF as a download, or the form again saying what to fix."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
    if sess is None:
        return error_page(ctx, 401, "登录已失效，请重新登录 · Your session has ended; sign in again.")
    limit = ctx.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        message = "请求缺少长度，请用浏览器重新提交 · The upload has no declared length; submit it again."
        return error_page(ctx, 411, message)
    if int(declared) > limit + FORM_OVERHEAD:
        return error_page(
            ctx, 413, f"文件过大（上限 {limit // (1 << 20)} MB）· The file is larger than {limit // (1 << 20)} MB."
        )
    try:
        async with request.form(max_files=1, max_fields=len(TEXT_FIELDS) + 2, max_part_size=FORM_OVERHEAD) as parts:
            form = {k: v for k, v in parts.items() if k in TEXT_FIELDS and isinstance(v, str)}
            refused = web_session.check_post(request, ctx, form, sess.csrf)
            if refused is not None:
                return refused
            upload = parts.get("file")
            file = upload if isinstance(upload, UploadFile) and upload.filename else None
            try:
                options = sign_options(form)
                data = await read_pdf_upload(request, file, limit)
                signed = await sign_for_enterprise(ctx, sess.enterprise, data, options)
            except ServiceError as e:
                web_session.refused(request, e)
                return _page(ctx, sess, error_status(e), error=sign_form_problem(e), form=form)
            name = signed_filename(file.filename if file is not None else None)
    except MultiPartException:
        return error_page(ctx, 400, "表单无法读取 · The form could not be read.")
    return Response(
        signed,
        media_type="application/pdf",
        headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"},
    )

"""The portal's own files and live showing: download the originals of one's licences, and show
chosen licences at a counter through a short-lived QR code (亮照) that the page draws large."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from certsvc.api.deps import CtxDep
from certsvc.api.portal import session as web_session
from certsvc.api.portal.forms import FormDep, grant_choice, text
from certsvc.api.portal.pages import error_page, error_status, page, redirect
from certsvc.api.responses import qr_png, stored_pdf
from certsvc.db.session import session_scope
from certsvc.enterprises import portal, showing
from certsvc.enterprises.files import original_filename, own_original, own_receipt, receipt_filename
from certsvc.enterprises.holders import CURRENT
from certsvc.errors import ServiceError
from certsvc.schemas import ShowIn

router = APIRouter(prefix="/portal", include_in_schema=False)

DURATIONS = [
    (30, "30 秒 · 30 s"),
    (60, "1 分钟 · 1 min"),
    (120, "2 分钟 · 2 min"),
    (300, "5 分钟 · 5 min"),
    (600, "10 分钟 · 10 min"),
]
DEFAULT_SECONDS = 120
REFRESH_EVERY = 15  # seconds: the page refreshes itself to count down, and once more when the code expires


@router.get("/licences/{licence_id}/pdf", response_class=Response)
def licence_pdf(licence_id: str, request: Request, ctx: CtxDep) -> Response:
    """Download the sealed original of one of the enterprise's licences (audited, in its access log)."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        try:
            lic, ver = own_original(s, sess.enterprise, licence_id)
        except ServiceError as e:
            web_session.refused(request, e)
            return error_page(ctx, 404, "没有这本证照 · No such licence.", sess=sess)
        name, sha = original_filename(lic, ver), ver.stored_sha256
    return stored_pdf(ctx, sha, name, "licence")


@router.get("/receipts/{receipt_id}.pdf", response_class=Response)
def receipt_pdf(receipt_id: str, request: Request, ctx: CtxDep) -> Response:
    """Download the sealed PDF of an acceptance receipt issued to the enterprise (audited)."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        try:
            rec = own_receipt(s, sess.enterprise, receipt_id)
        except ServiceError as e:
            web_session.refused(request, e)
            return error_page(ctx, 404, "没有这份回执 · No such receipt.", sess=sess)
        name, sha = receipt_filename(rec), rec.pdf_sha256
    return stored_pdf(ctx, sha, name, "receipt")


def _show_form(request: Request, ctx: CtxDep, status: int = 200, error: str | None = None) -> Response:
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        items = portal.holdings(s, sess.enterprise, ctx.settings.public_base_url).items
    current = [i for i in items if i["status"] in CURRENT]
    return page(
        ctx,
        "portal_show.html",
        status,
        s=sess,
        nav="show",
        current=current,
        durations=DURATIONS,
        default_seconds=DEFAULT_SECONDS,
        error=error,
    )


@router.get("/show", response_class=HTMLResponse)
def show_form(request: Request, ctx: CtxDep) -> Response:
    """亮照: choose the licences to show and for how long."""
    return _show_form(request, ctx)


@router.post("/show", response_class=HTMLResponse)
def create_show(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """Make a live code from the form, then (post/redirect/get) the page that shows it large."""
    sess, refused = web_session.signed_in_post(request, ctx, form)
    if refused is not None:
        return refused
    assert sess is not None and form is not None
    all_current, licence_ids = grant_choice(form)
    try:
        seconds = int(text(form, "expires_in_seconds", 6) or DEFAULT_SECONDS)
        chosen = None if all_current else licence_ids
        body = ShowIn(licence_ids=chosen, all_current=all_current, expires_in_seconds=seconds)
    except (ValueError, ValidationError):
        return _show_form(request, ctx, 422, "有效时间须在 30 到 600 秒之间 · The code must last 30 to 600 seconds.")
    try:
        with session_scope(ctx.engine) as s:
            new = showing.create_show(
                s,
                sess.enterprise,
                settings=ctx.settings,
                licence_ids=body.licence_ids,
                all_current=body.all_current,
                expires_in_seconds=body.expires_in_seconds,
            )
            show_id = new.show.id
    except ServiceError as e:
        if e.field == "licence_ids":
            message = "请至少选择一本证照，或勾选“全部现行证照” · Choose at least one licence, or tick “all current”."
        else:
            message = f"无法生成亮照码 · Cannot make a live code: {e.message}"
        return _show_form(request, ctx, error_status(e), message)
    return redirect(ctx, f"/portal/show/{show_id}")


@router.get("/show/{show_id}", response_class=HTMLResponse)
def show_code(show_id: str, request: Request, ctx: CtxDep) -> Response:
    """A live code drawn large, counting down: the page refreshes itself, and says when the code has expired."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        try:
            detail = portal.show_detail(s, sess.enterprise, show_id, ctx.settings.public_base_url)
        except ServiceError as e:
            web_session.refused(request, e)
            return error_page(ctx, 404, "没有这个亮照码 · No such live code.", sess=sess)
    left = detail.seconds_left
    return page(
        ctx,
        "portal_show_code.html",
        s=sess,
        nav="show",
        show=detail.show,
        licences=detail.licences,
        left=left,
        refresh=min(left + 1, REFRESH_EVERY) if left > 0 else None,
        expires=detail.show.expires_at.isoformat(),
        qr_url=f"/portal/show/{detail.show.id}/qr.png",
    )


@router.get("/show/{show_id}/qr.png", response_class=Response)
def show_qr(show_id: str, request: Request, ctx: CtxDep) -> Response:
    """The QR code of one of the enterprise's live codes, while it lasts, for its own session only."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        try:
            url = portal.show_qr_url(s, sess.enterprise, show_id, ctx.settings)
        except ServiceError as e:
            web_session.refused(request, e)
            return error_page(ctx, error_status(e), "亮照码已失效 · This live code is no longer valid.", sess=sess)
    return Response(qr_png(url), media_type="image/png", headers={"Cache-Control": "no-store"})

"""The enterprise portal (企业证照管理): server-rendered pages over the enterprise services.

Sessions and CSRF checks are in :mod:`certsvc.api.portal.session`, form parsing in
:mod:`certsvc.api.portal.forms`. Every page answers a person: errors are pages with a friendly
message and a 4xx status.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from certsvc.api.deps import ClientDep, CtxDep
from certsvc.api.errors import http_status, retry_after_header
from certsvc.api.portal import session as web_session
from certsvc.api.portal.forms import FormDep, FormProblem, grant_choice, grant_message, grant_request, text
from certsvc.api.portal.pages import (
    GRANT_STATES,
    error_page,
    error_status,
    grant_rows,
    local_time,
    log_events,
    new_grant_view,
    page,
    redirect,
    verification_counts,
)
from certsvc.api.responses import qr_png
from certsvc.context import Context
from certsvc.db.paging import PageRequest
from certsvc.db.session import session_scope
from certsvc.enterprises import portal, sessions
from certsvc.enterprises.accounts import ActivationLimits
from certsvc.enterprises.sessions import PortalSession
from certsvc.errors import ServiceError, Unauthorized
from certsvc.receipts.materials import enterprise_receipts
from certsvc.sharing import grants as sharing

router = APIRouter(prefix="/portal", include_in_schema=False)

LOG_PAGE_SIZE = 20
MAX_GRANTS_SHOWN = 200


# --- sign in, activate, sign out ------------------------------------------------------------


def _signin_page(
    request: Request,
    ctx: Context,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    uscc: str = "",
) -> HTMLResponse:
    nonce, csrf = web_session.pre_csrf(request, ctx)
    resp = page(ctx, "portal_signin.html", status, csrf=csrf, error=error, notice=notice, uscc=uscc)
    web_session.set_pre_cookie(resp, ctx, nonce)
    return resp


@router.get("", response_class=HTMLResponse)
def portal_home(request: Request, ctx: CtxDep) -> Response:
    """The portal's front door: the sign-in and activation forms, or the licences page if signed in."""
    with session_scope(ctx.engine) as s:
        if web_session.signed_in(request, ctx, s) is not None:
            return redirect(ctx, "/portal/licences")
    notice = "您已退出登录 · You are signed out." if request.query_params.get("signed_out") else None
    return _signin_page(request, ctx, notice=notice)


@router.post("/signin", response_class=HTMLResponse)
def signin(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """Sign in with the enterprise token; the session cookie holds a signed session value, never the token."""
    refused = web_session.check_pre_post(request, ctx, form)
    if refused is not None:
        return refused
    assert form is not None
    token = "".join(text(form, "token", 300).split())
    if not token:
        return _signin_page(request, ctx, status=422, error="请粘贴企业令牌 · Paste your enterprise token.")
    try:
        with session_scope(ctx.engine) as s:
            signed = sessions.sign_in(s, token)
    except Unauthorized as e:
        web_session.refused(request, e)
        return _signin_page(
            request,
            ctx,
            status=401,
            error=f"令牌无效，无法登录 · This token cannot sign in: {e.message}. Check that you pasted all of it.",
        )
    resp = redirect(ctx, "/portal/licences")
    web_session.set_session(resp, ctx, signed.credential)
    return resp


@router.post("/activate", response_class=HTMLResponse)
def activate(request: Request, ctx: CtxDep, form: FormDep, client: ClientDep) -> Response:
    """Activate with the USCC and the one-time code: shows the new token once, and signs in."""
    refused = web_session.check_pre_post(request, ctx, form)
    if refused is not None:
        return refused
    assert form is not None
    uscc = text(form, "uscc", 32).upper()
    code = text(form, "activation_code", 64)
    if not uscc or not code:
        return _signin_page(
            request,
            ctx,
            status=422,
            uscc=uscc,
            error="请填写统一社会信用代码和激活码 · Enter the USCC and the activation code.",
        )
    try:
        with session_scope(ctx.engine) as s:
            signed = sessions.activate(s, uscc, code, client, ActivationLimits.from_settings(ctx.settings))
    except ServiceError as e:
        resp = _signin_page(request, ctx, status=error_status(e), uscc=uscc, error=_activation_message(e))
        resp.headers.update(retry_after_header(e) or {})
        return resp
    ent = signed.enterprise
    resp = page(ctx, "portal_activated.html", token=signed.token, name=ent.name, uscc=ent.uscc)
    web_session.set_session(resp, ctx, signed.credential)
    return resp


def _activation_message(e: ServiceError) -> str:
    if http_status(e) == 401:
        return "激活码错误或已使用 · The activation code is wrong or has already been used."
    wait = getattr(e, "retry_after", None)
    if http_status(e) == 429 and wait is not None:
        minutes = max(1, math.ceil(wait / 60))
        return f"失败次数过多，请 {minutes} 分钟后再试 · Too many failed attempts; try again in {minutes} minutes."
    return f"无法激活 · Cannot activate: {e.message}"


@router.post("/signout", response_class=HTMLResponse)
def signout(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """Sign out: the session ends on the server and its cookie is cleared; back to the sign-in page."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
    refused = web_session.check_post(request, ctx, form, sess.csrf if sess else None)
    if refused is not None and sess is not None:
        return refused
    if sess is not None:
        with session_scope(ctx.engine) as s:
            sessions.sign_out(s, sess)
    resp = redirect(ctx, "/portal?signed_out=1")
    web_session.clear_session(resp, ctx)
    return resp


# --- signed-in pages ------------------------------------------------------------------------


@router.get("/licences", response_class=HTMLResponse)
def licences(request: Request, ctx: CtxDep) -> Response:
    """一企一档: the enterprise's licences, the current ones (valid or suspended) first."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        items = portal.holdings(s, sess.enterprise, ctx.settings.public_base_url).items
    current = [i for i in items if i["status"] in ("valid", "suspended")]
    other = [i for i in items if i["status"] not in ("valid", "suspended")]
    return page(ctx, "portal_licences.html", s=sess, nav="licences", current=current, other=other, total=len(items))


def _grants_context(s: Session, sess: PortalSession, base: str) -> dict[str, Any]:
    view = portal.grants_overview(s, sess.enterprise, base, MAX_GRANTS_SHOWN)
    return {
        "licences": view.holdings.items,
        "grants": grant_rows(view.grants, view.holdings, base),
        "max_days": sharing.MAX_GRANT_DAYS,
        "default_days": sharing.DEFAULT_GRANT_DAYS,
    }


@router.get("/grants", response_class=HTMLResponse)
def grants(request: Request, ctx: CtxDep) -> Response:
    """The grants page: the enterprise's newest grants and the form to create one."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        context = _grants_context(s, sess, ctx.settings.public_base_url)
    notice = None
    if request.query_params.get("revoked"):
        notice = "授权已撤销，分享链接立即失效 · The grant is revoked; its share link stops working at once."
    return page(ctx, "portal_grants.html", s=sess, nav="grants", notice=notice, form={}, **context)


@router.post("/grants", response_class=HTMLResponse)
def create_grant(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """Create a grant from the form: its share link and QR code, shown once; or the form again, saying what to fix."""
    base = ctx.settings.public_base_url
    sess, refused = web_session.signed_in_post(request, ctx, form)
    if refused is not None:
        return refused
    assert sess is not None
    assert form is not None
    try:
        body = grant_request(form)
        with session_scope(ctx.engine) as s:
            created = portal.create_grant(s, sess.enterprise, body, ctx.settings)
            grant_id = created.grant.id
    except (FormProblem, ServiceError) as e:
        status = 422 if isinstance(e, FormProblem) else error_status(e)
        all_current, licence_ids = grant_choice(form)
        with session_scope(ctx.engine) as s:
            context = _grants_context(s, sess, base)
        shown = {**form, "licence_ids": licence_ids, "all_current": all_current}
        return page(
            ctx, "portal_grants.html", status, s=sess, nav="grants", error=grant_message(e), form=shown, **context
        )
    # post/redirect/get: refreshing the page that follows shows the grant again, it never makes another
    return redirect(ctx, f"/portal/grants/{grant_id}?created=1")


@router.get("/grants/{grant_id}", response_class=HTMLResponse)
def grant_page(grant_id: str, request: Request, ctx: CtxDep) -> Response:
    """One of the enterprise's grants: its share link and QR code while it can be used, what it shares, until when."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        try:
            detail = portal.grant_detail(s, sess.enterprise, grant_id, ctx.settings)
        except ServiceError as e:
            web_session.refused(request, e)
            return error_page(ctx, 404, "没有这个授权 · No such grant.", sess=sess)
    g = new_grant_view(detail.grant, detail.holdings, ctx.settings.public_base_url)
    return page(
        ctx,
        "portal_grant_created.html",
        s=sess,
        nav="grants",
        g=g,
        state_label=GRANT_STATES[g["state"]],
        created=bool(request.query_params.get("created")),
        share_url=detail.share_url,
        qr_url=f"/portal/grants/{detail.grant.id}/qr.png",
    )


@router.get("/grants/{grant_id}/qr.png", response_class=Response)
def grant_qr(grant_id: str, request: Request, ctx: CtxDep) -> Response:
    """The QR code of one of the enterprise's grants' share link, for its own signed-in session only."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        try:
            url = sharing.share_url_of(s, ctx.settings, sess.enterprise, grant_id)
        except ServiceError as e:
            web_session.refused(request, e)
            return error_page(ctx, 404, "没有这个授权 · No such grant.", sess=sess)
    return Response(qr_png(url), media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/grants/{grant_id}/revoke", response_class=HTMLResponse)
def revoke_grant(grant_id: str, request: Request, ctx: CtxDep, form: FormDep) -> Response:
    """Revoke one of the enterprise's grants, then back to the grants page."""
    sess, refused = web_session.signed_in_post(request, ctx, form)
    if refused is not None:
        return refused
    assert sess is not None
    if len(grant_id) > 64:
        return error_page(ctx, 404, "没有这个授权 · No such grant.", sess=sess)
    try:
        with session_scope(ctx.engine) as s:
            sharing.revoke_grant(s, sess.enterprise, grant_id)
    except ServiceError as e:
        if http_status(e) == 404:
            return error_page(ctx, 404, "没有这个授权 · No such grant.", sess=sess)
        return error_page(ctx, error_status(e), e.message, sess=sess)
    return redirect(ctx, f"/portal/grants?revoked={grant_id}")


@router.get("/access-log", response_class=HTMLResponse)
def access_log(request: Request, ctx: CtxDep) -> Response:
    """Who accessed the enterprise's licences, a page at a time, with the daily QR scan counts."""
    try:
        page_no = max(1, min(int(request.query_params.get("page", "1")), 100000))
    except ValueError:
        page_no = 1
    ctx.scans.flush(ctx.engine)  # this process's pending scan counts
    ctx.denials.flush(ctx.engine)  # and refused attempts
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        view = portal.access_log(s, sess.enterprise, ctx.settings.public_base_url, page=page_no, per_page=LOG_PAGE_SIZE)
    return page(
        ctx,
        "portal_access_log.html",
        s=sess,
        nav="log",
        events=log_events(view),
        counts=verification_counts(view),
        page=page_no,
        pages=max(1, math.ceil(view.log["total"] / LOG_PAGE_SIZE)),
        total=view.log["total"],
    )


@router.get("/receipts", response_class=HTMLResponse)
def receipts(request: Request, ctx: CtxDep) -> Response:
    """The enterprise's acceptance receipts (受理回执), with the materials still to hand in (容缺) and by when."""
    with session_scope(ctx.engine) as s:
        sess = web_session.signed_in(request, ctx, s)
        if sess is None:
            return web_session.not_signed_in(ctx)
        view = enterprise_receipts(s, sess.enterprise, ctx.settings.public_base_url, PageRequest(limit=200))
    items = [{**r, "issued": local_time(r["issued_at"])} for r in view["items"]]
    waiting = sum(1 for r in items if r["outstanding"])
    return page(ctx, "portal_receipts.html", s=sess, nav="receipts", receipts=items, waiting=waiting)

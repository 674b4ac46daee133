"""The enterprise portal (企业证照管理): server-rendered pages over the enterprise services.

Sessions. Signing in (with the enterprise token) or activating sets a cookie that does not hold the
token: it holds ``<credential id>.<session id>.<expiry>.<mac>``, where the MAC is an HMAC-SHA256,
under a key kept in ``<data dir>/portal-secret`` (created 0600), over those three parts and the
stored hash of the credential. A stolen cookie therefore never reveals the long-lived token, it
expires after :data:`SESSION_TTL`, and it dies with the credential (revoked or replaced) or when it
signs out (its session id is kept as ended until the cookie would have expired, so a copy of the
cookie is refused too). The cookie is HttpOnly, SameSite=Strict, Path=/portal, and Secure when the
public base URL is https. Signing in and out are in the audit log.

CSRF. Every POST form carries a token: HMAC of the session id (signed in), or of a random nonce in
a separate pre-session cookie (the sign-in and activation forms, against login CSRF). A missing or
wrong token is a 403; so is an ``Origin`` (or, without one, a ``Referer``) that is not this service.

Every page answers a person: errors are pages with a friendly message and a 4xx status.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import delete
from sqlmodel import Session, select

from certsvc import audit
from certsvc.api.deps import CtxDep
from certsvc.auth import enterprise_for
from certsvc.context import Context
from certsvc.core.clock import CST
from certsvc.db.models import ApiCredential, EndedSession, Enterprise, Grant
from certsvc.db.session import session_scope
from certsvc.enterprises import accounts
from certsvc.enterprises.holders import holder_view
from certsvc.errors import ServiceError, Unauthorized
from certsvc.security import split_bearer
from certsvc.sharing import grants as sharing
from certsvc.web import env

log = logging.getLogger("certsvc.portal")

router = APIRouter(prefix="/portal", include_in_schema=False)

SESSION_COOKIE = "certsvc_portal"
PRE_COOKIE = "certsvc_portal_pre"
SESSION_TTL = 8 * 3600
PRE_TTL = 3600
MAX_FORM_BYTES = 64 * 1024
LOG_PAGE_SIZE = 20
MAX_GRANTS_SHOWN = 200

KIND_LABELS = {
    "grant_download": ("授权下载", "download through a grant"),
    "lookup": ("部门共享调用", "department look-up"),
    "verify": ("公众核验", "public verification"),
}
GRANT_STATES = {
    "active": ("有效", "active"),
    "revoked": ("已撤销", "revoked"),
    "expired": ("已过期", "expired"),
    "exhausted": ("次数已用完", "used up"),
}


# --- keys, session values, CSRF tokens -------------------------------------------------------

_secrets: dict[Path, bytes] = {}


def portal_secret(ctx: Context) -> bytes:
    """The portal's HMAC key: 32 random bytes in the data directory, created 0600 exactly once."""
    path = ctx.settings.data_dir / "portal-secret"
    cached = _secrets.get(path)
    if cached is not None:
        return cached
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".portal-secret.{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(32).hex().encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic; if another process won the race, use its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 32:
        raise RuntimeError(f"{path}: the portal secret is too short")
    _secrets[path] = key
    return key


def _mac(ctx: Context, purpose: str, message: str) -> str:
    key = hmac.new(portal_secret(ctx), f"certsvc-portal:{purpose}".encode(), hashlib.sha256).digest()
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def session_value(ctx: Context, cred: ApiCredential, sid: str, expires: int) -> str:
    body = f"{cred.id}.{sid}.{expires}"
    return f"{body}.{_mac(ctx, 'session', f'{body}.{cred.secret_hash}')}"


def csrf_for_session(ctx: Context, sid: str) -> str:
    return _mac(ctx, "csrf", f"session:{sid}")


def csrf_for_pre(ctx: Context, nonce: str) -> str:
    return _mac(ctx, "csrf", f"pre:{nonce}")


@dataclass
class PortalSession:
    enterprise: Enterprise
    sid: str
    csrf: str
    expires: int


def read_session(ctx: Context, s: Session, cookie: str | None) -> PortalSession | None:
    """The signed-in enterprise, or None for a missing, forged, expired or revoked session."""
    if not cookie or len(cookie) > 300:
        return None
    parts = cookie.split(".")
    if len(parts) != 4 or not parts[0].isascii() or not parts[0].isdigit() or len(parts[0]) > 9:
        return None
    if not parts[2].isascii() or not parts[2].isdigit() or len(parts[2]) > 12:
        return None
    cred_id, sid, expires = int(parts[0]), parts[1], int(parts[2])
    if expires < time.time() or not sid or len(sid) > 32:
        return None
    cred = s.get(ApiCredential, cred_id)
    if cred is None or cred.kind != "enterprise" or cred.revoked_at is not None:
        return None
    if not hmac.compare_digest(session_value(ctx, cred, sid, expires), cookie):
        return None
    if s.get(EndedSession, sid) is not None:  # signed out
        return None
    ent = s.get(Enterprise, cred.owner_id)
    if ent is None:
        return None
    return PortalSession(ent, sid, csrf_for_session(ctx, sid), expires)


def _credential_of(s: Session, token: str) -> tuple[Enterprise, ApiCredential]:
    ent = enterprise_for(s, token)  # authenticates (hash compared in constant time)
    parsed = split_bearer(token)
    assert parsed is not None
    cred = s.exec(select(ApiCredential).where(ApiCredential.prefix == parsed[1])).one()
    return ent, cred


def _secure(ctx: Context) -> bool:
    return ctx.settings.public_base_url.lower().startswith("https://")


def _set_session(resp: Response, ctx: Context, cred: ApiCredential) -> None:
    value = session_value(ctx, cred, secrets.token_urlsafe(16), int(time.time()) + SESSION_TTL)
    resp.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_TTL,
        path="/portal",
        secure=_secure(ctx),
        httponly=True,
        samesite="strict",
    )
    resp.delete_cookie(PRE_COOKIE, path="/portal", secure=_secure(ctx), httponly=True, samesite="strict")


def _clear_session(resp: Response, ctx: Context) -> None:
    resp.delete_cookie(SESSION_COOKIE, path="/portal", secure=_secure(ctx), httponly=True, samesite="strict")


def _origin(url: str) -> str:
    try:
        u = urlsplit(url)
    except ValueError:
        return "invalid"
    return f"{u.scheme}://{u.netloc}".lower()


def same_origin(request: Request, ctx: Context) -> bool:
    """Origin (or else Referer), when the browser sends one, must be this service."""
    allowed = {_origin(ctx.settings.public_base_url), _origin(str(request.base_url))}
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() in allowed  # "null" (opaque origins) is refused
    referer = request.headers.get("referer")
    if referer:
        return _origin(referer) in allowed
    return True


# --- responses ------------------------------------------------------------------------------


def _headers(ctx: Context) -> dict[str, str]:
    public = _origin(ctx.settings.public_base_url)
    return {
        "Cache-Control": "no-store",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Content-Security-Policy": (
            f"default-src 'none'; img-src 'self' {public}; style-src 'unsafe-inline'; "
            f"form-action 'self' {public}; frame-ancestors 'none'; base-uri 'none'"
        ),
    }


def page(ctx: Context, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(env().get_template(template).render(**context), status_code=status, headers=_headers(ctx))


def error_page(
    ctx: Context, status: int, message: str, *, sess: PortalSession | None = None, detail: str | None = None
) -> HTMLResponse:
    titles = {
        400: ("请求有误", "Bad request"),
        401: ("请先登录", "Please sign in"),
        403: ("请求被拒绝", "Request refused"),
        404: ("未找到", "Not found"),
        409: ("无法执行", "Conflict"),
        410: ("已失效", "Gone"),
        413: ("内容过大", "Too large"),
        422: ("填写有误", "Please check your input"),
        429: ("尝试次数过多", "Too many attempts"),
    }
    zh, en = titles.get(status, ("出错了", "Something went wrong"))
    return page(ctx, "portal_error.html", status, s=sess, title_zh=zh, title_en=en, message=message, detail=detail)


def redirect(ctx: Context, to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers=_headers(ctx))


def _service_error_status(e: ServiceError) -> int:
    return e.status if 400 <= e.status < 500 else 400


async def read_form(request: Request) -> dict[str, Any] | None:
    """The POSTed form (urlencoded, as the portal's forms send it) as ``{name: value or [values]}``.

    None when it cannot be read: too large (also when streamed without a length) or not UTF-8.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return {}  # not one of our forms: it carries no CSRF token either, so it is refused with 403
    try:
        if int(request.headers.get("content-length") or 0) > MAX_FORM_BYTES:
            return None
        size, chunks = 0, []
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return None
            chunks.append(chunk)
        pairs = parse_qsl(b"".join(chunks).decode("utf-8"), keep_blank_values=True, max_num_fields=300)
    except (ValueError, UnicodeDecodeError):
        return None
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            prev = out[key]
            out[key] = [*prev, value] if isinstance(prev, list) else [prev, value]
        else:
            out[key] = value
    return out


FormDep = Annotated[dict[str, Any] | None, Depends(read_form)]


def _text(form: dict[str, Any], name: str, limit: int = 500) -> str:
    v = form.get(name, "")
    if isinstance(v, list):
        v = v[0] if v else ""
    return str(v).strip()[:limit]


def _list(form: dict[str, Any], name: str) -> list[str]:
    v = form.get(name, [])
    return [str(x) for x in (v if isinstance(v, list) else [v])][:200]


class FormProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _int(form: dict[str, Any], name: str, label: str) -> int | None:
    raw = _text(form, name, 20)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise FormProblem(f"{label}: 请填写整数 · enter a whole number") from None


def _local(ts: str | datetime | None) -> str:
    if ts is None:
        return ""
    dt = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def _check_post(
    request: Request, ctx: Context, form: dict[str, Any] | None, expected: str | None
) -> HTMLResponse | None:
    """None when the POST may proceed; else the refusal page."""
    if not same_origin(request, ctx):
        return error_page(ctx, 403, "请求来自其他网站，已拒绝 · The request came from another site and was refused.")
    if form is None:
        return error_page(ctx, 400, "表单无法读取或过大 · The form could not be read or is too large.")
    sent = _text(form, "csrf", 200)
    if expected is None or not sent or not hmac.compare_digest(sent, expected):
        return error_page(
            ctx,
            403,
            "表单已失效，请返回重新打开页面后再提交 · The form is missing its security token or has expired; "
            "reload the page and submit again.",
        )
    return None


# --- sign in, activate, sign out ------------------------------------------------------------


def _pre_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(PRE_COOKIE)
    return nonce if nonce and 16 <= len(nonce) <= 64 else None


def _signin_page(
    request: Request,
    ctx: Context,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    uscc: str = "",
) -> HTMLResponse:
    nonce = _pre_nonce(request) or secrets.token_urlsafe(24)
    resp = page(ctx, "portal_signin.html", status, csrf=csrf_for_pre(ctx, nonce), error=error, notice=notice, uscc=uscc)
    resp.set_cookie(
        PRE_COOKIE, nonce, max_age=PRE_TTL, path="/portal", secure=_secure(ctx), httponly=True, samesite="strict"
    )
    return resp


@router.get("", response_class=HTMLResponse)
def portal_home(request: Request, ctx: CtxDep) -> Response:
    with session_scope(ctx.engine) as s:
        if read_session(ctx, s, request.cookies.get(SESSION_COOKIE)) is not None:
            return redirect(ctx, "/portal/licences")
    notice = "您已退出登录 · You are signed out." if request.query_params.get("signed_out") else None
    return _signin_page(request, ctx, notice=notice)


def _pre_check(request: Request, ctx: Context, form: dict[str, Any] | None) -> HTMLResponse | None:
    nonce = _pre_nonce(request)
    return _check_post(request, ctx, form, csrf_for_pre(ctx, nonce) if nonce else None)


@router.post("/signin", response_class=HTMLResponse)
def signin(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    refused = _pre_check(request, ctx, form)
    if refused is not None:
        return refused
    assert form is not None
    token = "".join(_text(form, "token", 300).split())
    if not token:
        return _signin_page(request, ctx, status=422, error="请粘贴企业令牌 · Paste your enterprise token.")
    try:
        with session_scope(ctx.engine) as s:
            ent, cred = _credential_of(s, token)
            _record_session(s, "portal.signin", ent)
    except Unauthorized:
        return _signin_page(
            request,
            ctx,
            status=401,
            error="令牌无效或已被吊销 · This token is not valid (unknown or revoked). Check that you pasted all of it.",
        )
    resp = redirect(ctx, "/portal/licences")
    _set_session(resp, ctx, cred)
    return resp


@router.post("/activate", response_class=HTMLResponse)
def activate(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    refused = _pre_check(request, ctx, form)
    if refused is not None:
        return refused
    assert form is not None
    uscc = _text(form, "uscc", 32).upper()
    code = _text(form, "activation_code", 64)
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
            try:
                token = accounts.activate(s, uscc, code)
            except Unauthorized:
                s.commit()  # the failed attempt counts towards the rate limit
                raise
            s.flush()
            ent, cred = _credential_of(s, token)
            _record_session(s, "portal.signin", ent)
            name, ent_uscc = ent.name, ent.uscc
    except ServiceError as e:
        return _signin_page(request, ctx, status=_service_error_status(e), uscc=uscc, error=_activation_message(e))
    resp = page(ctx, "portal_activated.html", token=token, name=name, uscc=ent_uscc)
    _set_session(resp, ctx, cred)
    return resp


def _activation_message(e: ServiceError) -> str:
    if e.status == 401:
        return "激活码错误或已使用 · The activation code is wrong or has already been used."
    if e.status == 429:
        return "失败次数过多，请 15 分钟后再试 · Too many failed attempts; try again in 15 minutes."
    return f"无法激活 · Cannot activate: {e.message}"


@router.post("/signout", response_class=HTMLResponse)
def signout(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    with session_scope(ctx.engine) as s:
        sess = read_session(ctx, s, request.cookies.get(SESSION_COOKIE))
    refused = _check_post(request, ctx, form, sess.csrf if sess else None)
    if refused is not None and sess is not None:
        return refused
    if sess is not None:
        with session_scope(ctx.engine) as s:
            now = datetime.now(UTC)
            s.execute(delete(EndedSession).where(EndedSession.expires_at < now))  # type: ignore[arg-type]
            s.add(EndedSession(sid=sess.sid, expires_at=datetime.fromtimestamp(sess.expires, UTC)))
            _record_session(s, "portal.signout", sess.enterprise)
    resp = redirect(ctx, "/portal?signed_out=1")
    _clear_session(resp, ctx)
    return resp


def _record_session(s: Session, action: str, ent: Enterprise) -> None:
    audit.record(s, action, actor_kind="enterprise", actor_id=ent.id, subject_kind="enterprise", subject_id=ent.id)


# --- signed-in pages ------------------------------------------------------------------------


def _signed_in(request: Request, ctx: Context, s: Session) -> PortalSession | None:
    return read_session(ctx, s, request.cookies.get(SESSION_COOKIE))


def _signed_in_post(
    request: Request, ctx: Context, form: dict[str, Any] | None
) -> tuple[PortalSession | None, HTMLResponse | None]:
    """The session of a state-changing POST, or the refusal page (signed out, or CSRF failed)."""
    with session_scope(ctx.engine) as s:
        sess = _signed_in(request, ctx, s)
    if sess is None:
        return None, error_page(ctx, 401, "登录已失效，请重新登录 · Your session has ended; sign in again.")
    return sess, _check_post(request, ctx, form, sess.csrf)


def _not_signed_in(ctx: Context) -> Response:
    resp = redirect(ctx, "/portal")
    _clear_session(resp, ctx)
    return resp


def _licence_index(s: Session, ent: Enterprise, base: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    items = holder_view(s, ent.uscc, base)
    return items, {i["id"]: i for i in items}


@router.get("/licences", response_class=HTMLResponse)
def licences(request: Request, ctx: CtxDep) -> Response:
    with session_scope(ctx.engine) as s:
        sess = _signed_in(request, ctx, s)
        if sess is None:
            return _not_signed_in(ctx)
        items, _ = _licence_index(s, sess.enterprise, ctx.settings.public_base_url)
    current = [i for i in items if i["status"] in ("valid", "suspended")]
    other = [i for i in items if i["status"] not in ("valid", "suspended")]
    return page(ctx, "portal_licences.html", s=sess, nav="licences", current=current, other=other, total=len(items))


def _grants_context(s: Session, sess: PortalSession, base: str) -> dict[str, Any]:
    items, by_id = _licence_index(s, sess.enterprise, base)
    rows = s.exec(
        select(Grant)
        .where(Grant.enterprise_id == sess.enterprise.id)
        .order_by(Grant.created_at.desc())  # type: ignore[attr-defined]
        .limit(MAX_GRANTS_SHOWN)
    ).all()
    grants = []
    for g in rows:
        summary = sharing.grant_summary(g, base)
        summary["state_label"] = GRANT_STATES[summary["state"]]
        summary["created"] = _local(g.created_at)
        summary["expires"] = _local(g.expires_at)
        summary["licences"] = [by_id.get(i, {"licence_type_name": "（已删除）", "number": i}) for i in g.licence_ids]
        grants.append(summary)
    return {
        "licences": items,
        "grants": grants,
        "max_days": sharing.MAX_GRANT_DAYS,
        "default_days": sharing.DEFAULT_GRANT_DAYS,
    }


@router.get("/grants", response_class=HTMLResponse)
def grants(request: Request, ctx: CtxDep) -> Response:
    with session_scope(ctx.engine) as s:
        sess = _signed_in(request, ctx, s)
        if sess is None:
            return _not_signed_in(ctx)
        context = _grants_context(s, sess, ctx.settings.public_base_url)
    notice = None
    if request.query_params.get("revoked"):
        notice = "授权已撤销，分享链接立即失效 · The grant is revoked; its share link stops working at once."
    return page(ctx, "portal_grants.html", s=sess, nav="grants", notice=notice, form={}, **context)


@router.post("/grants", response_class=HTMLResponse)
def create_grant(request: Request, ctx: CtxDep, form: FormDep) -> Response:
    base = ctx.settings.public_base_url
    sess, refused = _signed_in_post(request, ctx, form)
    if refused is not None:
        return refused
    assert sess is not None
    assert form is not None
    all_current = _text(form, "all_current", 10) in ("1", "on", "true")
    licence_ids = [i for i in _list(form, "licence_ids") if i]
    try:
        days = _int(form, "expires_in_days", "有效天数 Days")
        max_downloads = _int(form, "max_downloads", "最多下载次数 Max downloads")
        grantee_name = _text(form, "grantee_name", 201)
        purpose = _text(form, "purpose", 501)
        if len(grantee_name) > 200:
            raise FormProblem("被授权方名称过长 · The grantee name is too long (200 characters at most).")
        if len(purpose) > 500:
            raise FormProblem("用证事由过长 · The purpose is too long (500 characters at most).")
        with session_scope(ctx.engine) as s:
            new = sharing.create_grant(
                s,
                sess.enterprise,
                licence_ids=None if all_current else licence_ids,
                all_current=all_current,
                grantee_name=grantee_name,
                grantee_id=_text(form, "grantee_id", 32) or None,
                purpose=purpose,
                expires_in_days=days,
                max_downloads=max_downloads,
            )
            summary = sharing.grant_summary(new.grant, base)
            _, by_id = _licence_index(s, sess.enterprise, base)
            summary["licences"] = [by_id[i] for i in new.grant.licence_ids if i in by_id]
            summary["expires"] = _local(new.grant.expires_at)
            token = new.token
    except (FormProblem, ServiceError) as e:
        status = 422 if isinstance(e, FormProblem) else _service_error_status(e)
        with session_scope(ctx.engine) as s:
            context = _grants_context(s, sess, base)
        shown = {**form, "licence_ids": licence_ids, "all_current": all_current}
        return page(
            ctx, "portal_grants.html", status, s=sess, nav="grants", error=_grant_message(e), form=shown, **context
        )
    share_url = f"{base}/s/{token}"
    return page(
        ctx,
        "portal_grant_created.html",
        s=sess,
        nav="grants",
        g=summary,
        share_url=share_url,
        qr_url=f"{share_url}/qr.png",
    )


_FIELD_LABELS = {
    "grantee_name": "被授权方 Grantee",
    "grantee_id": "被授权方证件号 Grantee ID",
    "purpose": "用证事由 Purpose",
    "expires_in_days": "有效天数 Days",
    "max_downloads": "最多下载次数 Max downloads",
    "licence_ids": "证照 Licences",
    "all_current": "全部现行证照 All current licences",
}


def _grant_message(e: Exception) -> str:
    if isinstance(e, FormProblem):
        return e.message
    assert isinstance(e, ServiceError)
    if e.field == "licence_ids" and "at least one" in e.message:
        return "请至少选择一本证照，或勾选“全部现行证照” · Choose at least one licence, or tick “all current”."
    if e.field == "expires_in_days":
        return (
            f"有效天数须在 1 到 {sharing.MAX_GRANT_DAYS} 天之间 · Days must be between 1 and {sharing.MAX_GRANT_DAYS}."
        )
    if e.field == "grantee_id":
        return (
            "被授权方证件号不是有效的统一社会信用代码或身份证号 · "
            "The grantee ID is neither a valid USCC nor a valid ID card number."
        )
    if e.field == "purpose":
        return "请填写用证事由 · Enter the purpose (用证事由)."
    if e.field == "grantee_name":
        return "请填写被授权方名称 · Enter the grantee's name."
    label = _FIELD_LABELS.get(e.field or "", "")
    return f"{label + ': ' if label else ''}{e.message}"


@router.post("/grants/{grant_id}/revoke", response_class=HTMLResponse)
def revoke_grant(grant_id: str, request: Request, ctx: CtxDep, form: FormDep) -> Response:
    sess, refused = _signed_in_post(request, ctx, form)
    if refused is not None:
        return refused
    assert sess is not None
    if len(grant_id) > 64:
        return error_page(ctx, 404, "没有这个授权 · No such grant.", sess=sess)
    try:
        with session_scope(ctx.engine) as s:
            sharing.revoke_grant(s, sess.enterprise, grant_id)
    except ServiceError as e:
        if e.status == 404:
            return error_page(ctx, 404, "没有这个授权 · No such grant.", sess=sess)
        return error_page(ctx, _service_error_status(e), e.message, sess=sess)
    return redirect(ctx, f"/portal/grants?revoked={grant_id}")


@router.get("/access-log", response_class=HTMLResponse)
def access_log(request: Request, ctx: CtxDep) -> Response:
    try:
        page_no = max(1, min(int(request.query_params.get("page", "1")), 100000))
    except ValueError:
        page_no = 1
    ctx.scans.flush(ctx.engine)  # this process's pending scan counts
    with session_scope(ctx.engine) as s:
        sess = _signed_in(request, ctx, s)
        if sess is None:
            return _not_signed_in(ctx)
        data = accounts.access_log(s, sess.enterprise, page=page_no, per_page=LOG_PAGE_SIZE)
        _, by_id = _licence_index(s, sess.enterprise, ctx.settings.public_base_url)
        grant_ids = {e["grant_id"] for e in data["items"] if e["grant_id"]}
        grantees = (
            {
                g.id: {"grantee_name": g.grantee_name, "purpose": g.purpose}
                for g in s.exec(
                    select(Grant).where(Grant.enterprise_id == sess.enterprise.id, Grant.id.in_(grant_ids))  # type: ignore[attr-defined]
                )
            }
            if grant_ids
            else {}
        )
    events = []
    for e in data["items"]:
        lic = by_id.get(e["licence_id"]) if e["licence_id"] else None
        events.append(
            {
                **e,
                "when": _local(e["at"]),
                "kind_label": KIND_LABELS.get(e["kind"], (e["kind"], e["kind"])),
                "licence": lic,
                "grant": grantees.get(e["grant_id"]) if e["grant_id"] else None,
            }
        )
    counts = [{**c, "licence": by_id.get(c["licence_id"])} for c in data["verification_counts"][:60]]
    pages = max(1, math.ceil(data["total"] / LOG_PAGE_SIZE))
    return page(
        ctx,
        "portal_access_log.html",
        s=sess,
        nav="log",
        events=events,
        counts=counts,
        page=page_no,
        pages=pages,
        total=data["total"],
    )

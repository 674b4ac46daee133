"""The portal session over HTTP: its cookies, and the checks every POST passes.

Signing in (with the enterprise token) or activating sets a cookie holding a signed session value
(see :mod:`certsvc.enterprises.sessions`), never the token. The cookie is HttpOnly,
SameSite=Strict, Path=/portal, and Secure when the public base URL is https.

CSRF. Every POST form carries a token: HMAC of the session id (signed in), or of a random nonce in
a separate pre-session cookie (the sign-in and activation forms, against login CSRF). A missing or
wrong token is a 403; so is an ``Origin`` (or, without one, a ``Referer``) that is not this service.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from certsvc.api.errors import note_denial
from certsvc.api.portal.forms import text
from certsvc.api.portal.pages import error_page, origin, redirect
from certsvc.context import Context
from certsvc.db.models import ApiCredential
from certsvc.db.session import session_scope
from certsvc.enterprises import sessions
from certsvc.enterprises.sessions import PortalSession
from certsvc.errors import Denial, ServiceError

SESSION_COOKIE = "certsvc_portal"
PRE_COOKIE = "certsvc_portal_pre"
SESSION_TTL = 8 * 3600
PRE_TTL = 3600


def _secret(ctx: Context) -> bytes:
    return sessions.portal_secret(ctx.settings.data_dir)


def _secure(ctx: Context) -> bool:
    return ctx.settings.public_base_url.lower().startswith("https://")


def set_session(resp: Response, ctx: Context, cred: ApiCredential) -> None:
    """Start a session of ``cred`` (and drop the pre-session cookie)."""
    resp.set_cookie(
        SESSION_COOKIE,
        sessions.new_session_value(_secret(ctx), cred, SESSION_TTL),
        max_age=SESSION_TTL,
        path="/portal",
        secure=_secure(ctx),
        httponly=True,
        samesite="strict",
    )
    resp.delete_cookie(PRE_COOKIE, path="/portal", secure=_secure(ctx), httponly=True, samesite="strict")


def clear_session(resp: Response, ctx: Context) -> None:
    """Delete the session cookie (ending the session on the server is :func:`sessions.sign_out`)."""
    resp.delete_cookie(SESSION_COOKIE, path="/portal", secure=_secure(ctx), httponly=True, samesite="strict")


def signed_in(request: Request, ctx: Context, s: Session) -> PortalSession | None:
    """The session of the request's cookie, or None."""
    return sessions.read_session(s, _secret(ctx), request.cookies.get(SESSION_COOKIE))


def not_signed_in(ctx: Context) -> Response:
    """Back to the sign-in page, without the session cookie."""
    resp = redirect(ctx, "/portal")
    clear_session(resp, ctx)
    return resp


def same_origin(request: Request, ctx: Context) -> bool:
    """Origin (or else Referer), when the browser sends one, must be this service."""
    allowed = {origin(ctx.settings.public_base_url), origin(str(request.base_url))}
    sent = request.headers.get("origin")
    if sent is not None:
        return sent.lower() in allowed  # "null" (opaque origins) is refused
    referer = request.headers.get("referer")
    if referer:
        return origin(referer) in allowed
    return True


def _form_of(request: Request) -> str:
    """The form a POST was for, as its route's path (``/portal/grants/{grant_id}/revoke``), never the sent path."""
    route = request.scope.get("route")
    return str(getattr(route, "path", "/portal"))[:64]


def check_post(
    request: Request, ctx: Context, form: dict[str, Any] | None, expected: str | None
) -> HTMLResponse | None:
    """None when the POST may proceed; else the refusal page."""
    if not same_origin(request, ctx):
        note_denial(request, Denial("csrf", subject_kind="portal", subject_id=_form_of(request), reason="other origin"))
        return error_page(ctx, 403, "请求来自其他网站，已拒绝 · The request came from another site and was refused.")
    if form is None:
        return error_page(ctx, 400, "表单无法读取或过大 · The form could not be read or is too large.")
    sent = text(form, "csrf", 200)
    if expected is None or not sent or not hmac.compare_digest(sent, expected):
        reason = "no session or pre-session" if expected is None else "missing or wrong token"
        note_denial(request, Denial("csrf", subject_kind="portal", subject_id=_form_of(request), reason=reason))
        return error_page(
            ctx,
            403,
            "表单已失效，请返回重新打开页面后再提交 · The form is missing its security token or has expired; "
            "reload the page and submit again.",
        )
    return None


def signed_in_post(
    request: Request, ctx: Context, form: dict[str, Any] | None
) -> tuple[PortalSession | None, HTMLResponse | None]:
    """The session of a state-changing POST, or the refusal page (signed out, or CSRF failed)."""
    with session_scope(ctx.engine) as s:
        sess = signed_in(request, ctx, s)
    if sess is None:
        return None, error_page(ctx, 401, "登录已失效，请重新登录 · Your session has ended; sign in again.")
    return sess, check_post(request, ctx, form, sess.csrf)


def refused(request: Request, error: ServiceError) -> None:
    """Count the refusal the portal answers itself with a page (a bad enterprise token at sign-in)."""
    if error.denial is not None:
        note_denial(request, error.denial)


# --- before signing in: the pre-session cookie --------------------------------------------------


def _pre_nonce(request: Request) -> str | None:
    nonce = request.cookies.get(PRE_COOKIE)
    return nonce if nonce and 16 <= len(nonce) <= 64 else None


def pre_csrf(request: Request, ctx: Context) -> tuple[str, str]:
    """The pre-session nonce (the cookie's, or a new one) and the CSRF token of the forms."""
    nonce = _pre_nonce(request) or secrets.token_urlsafe(24)
    return nonce, sessions.csrf_for_pre(_secret(ctx), nonce)


def set_pre_cookie(resp: Response, ctx: Context, nonce: str) -> None:
    """Set the pre-session cookie whose nonce the sign-in and activation forms' CSRF token is bound to."""
    resp.set_cookie(
        PRE_COOKIE, nonce, max_age=PRE_TTL, path="/portal", secure=_secure(ctx), httponly=True, samesite="strict"
    )


def check_pre_post(request: Request, ctx: Context, form: dict[str, Any] | None) -> HTMLResponse | None:
    """:func:`check_post` for the sign-in and activation forms."""
    nonce = _pre_nonce(request)
    return check_post(request, ctx, form, sessions.csrf_for_pre(_secret(ctx), nonce) if nonce else None)

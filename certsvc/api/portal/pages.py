"""The portal's responses: pages with strict headers, friendly error pages, and how records read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi.responses import HTMLResponse, RedirectResponse

from certsvc.api.errors import http_status
from certsvc.context import Context
from certsvc.core.clock import CST
from certsvc.db.models import Grant
from certsvc.enterprises.portal import AccessLog, Holdings
from certsvc.enterprises.sessions import PortalSession
from certsvc.errors import ServiceError
from certsvc.sharing import grants as sharing
from certsvc.web import env

KIND_LABELS = {
    "grant_download": ("授权下载", "download through a grant"),
    "holder_download": ("本企业下载原件", "original downloaded by your enterprise"),
    "lookup": ("部门共享调用", "department look-up"),
    "matter_lookup": ("免提交核验", "look-up for a matter (no need to submit)"),
    "verify": ("公众核验", "public verification"),
    "refused_revoked": ("拒绝下载：授权已撤销", "download refused: grant revoked"),
    "refused_expired": ("拒绝下载：授权已过期", "download refused: grant expired"),
    "refused_exhausted": ("拒绝下载：次数已用完", "download refused: no downloads left"),
    "refused_outside": ("拒绝下载：证照不在授权内", "download refused: licence not in the grant"),
}
GRANT_STATES = {
    "active": ("有效", "active"),
    "revoked": ("已撤销", "revoked"),
    "expired": ("已过期", "expired"),
    "exhausted": ("次数已用完", "no downloads left"),
}
_TITLES = {
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


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased."""
    try:
        u = urlsplit(url)
    except ValueError:
        return "invalid"
    return f"{u.scheme}://{u.netloc}".lower()


def _headers(ctx: Context) -> dict[str, str]:
    public = origin(ctx.settings.public_base_url)
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
    """A template rendered as a page, with the portal's strict headers (no caching, no framing, a tight CSP)."""
    return HTMLResponse(env().get_template(template).render(**context), status_code=status, headers=_headers(ctx))


def error_page(
    ctx: Context, status: int, message: str, *, sess: PortalSession | None = None, detail: str | None = None
) -> HTMLResponse:
    """A friendly error page: a title in both languages for ``status``, and the message."""
    zh, en = _TITLES.get(status, ("出错了", "Something went wrong"))
    return page(ctx, "portal_error.html", status, s=sess, title_zh=zh, title_en=en, message=message, detail=detail)


def redirect(ctx: Context, to: str) -> RedirectResponse:
    """A 303 to ``to`` (after a POST the browser follows with a GET), with the portal's headers."""
    return RedirectResponse(to, status_code=303, headers=_headers(ctx))


def error_status(e: ServiceError) -> int:
    """A service error's status as a page shows it: always a 4xx."""
    return status if 400 <= (status := http_status(e) or 500) < 500 else 400


def local_time(ts: str | datetime | None) -> str:
    """A stored time as the portal shows it: China Standard Time, to the minute (naive is UTC; empty for none)."""
    if ts is None:
        return ""
    dt = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def grant_rows(grants: list[Grant], held: Holdings, base_url: str) -> list[dict[str, Any]]:
    """The grants list: each grant's summary with its state, times and licences as shown."""
    rows = []
    for g in grants:
        summary = sharing.grant_summary(g, base_url)
        summary["state_label"] = GRANT_STATES[summary["state"]]
        summary["created"] = local_time(g.created_at)
        summary["expires"] = local_time(g.expires_at)
        summary["licences"] = [
            held.by_id.get(i, {"licence_type_name": "（已删除）", "number": i}) for i in g.licence_ids
        ]
        rows.append(summary)
    return rows


def new_grant_view(g: Grant, held: Holdings, base_url: str) -> dict[str, Any]:
    """The grant just created, as its page shows it: with its licences and when it expires."""
    summary = sharing.grant_summary(g, base_url)
    summary["licences"] = [held.by_id[i] for i in g.licence_ids if i in held.by_id]
    summary["expires"] = local_time(g.expires_at)
    return summary


def log_events(view: AccessLog) -> list[dict[str, Any]]:
    """The access log's events with their labels and the licence and grant they name."""
    grantees = {g.id: {"grantee_name": g.grantee_name, "purpose": g.purpose} for g in view.grants.values()}
    events = []
    for e in view.log["items"]:
        events.append(
            {
                **e,
                "when": local_time(e["at"]),
                "kind_label": KIND_LABELS.get(e["kind"], (e["kind"], e["kind"])),
                "licence": view.holdings.by_id.get(e["licence_id"]) if e["licence_id"] else None,
                "grant": grantees.get(e["grant_id"]) if e["grant_id"] else None,
            }
        )
    return events


def verification_counts(view: AccessLog, limit: int = 60) -> list[dict[str, Any]]:
    """The first ``limit`` daily QR scan counts, each with the licence it counts."""
    return [{**c, "licence": view.holdings.by_id.get(c["licence_id"])} for c in view.log["verification_counts"][:limit]]

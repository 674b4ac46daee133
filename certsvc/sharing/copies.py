"""Share links (授权下载): the grantee's view and marked copies (加注件).

A marked copy is the sealed licence plus, in an incremental update, the service's own signature
in the field reserved at sealing time, whose appearance reads "仅供 <grantee> 用于 <purpose> …"
in a box and, repeated diagonally across the page in light grey, "仅供 <grantee> 用于 <purpose>
<date made>" (licences sealed before the watermark have the box only), and whose signed /Reason
names the grant. The department's certification signature permits
signing, so its seal stays valid; removing the mark means cutting the file back to the bare
licence, which then names no grant; changing it breaks the service's signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlmodel import Session

from certsvc import audit
from certsvc.context import Context
from certsvc.core.clock import CST, now
from certsvc.db.models import Department, Enterprise, Grant, Licence, LicenceType, LicenceVersion
from certsvc.db.session import session_scope
from certsvc.enterprises.accounts import log_access
from certsvc.enterprises.standing import ended_words
from certsvc.errors import Conflict, Gone, NotFound
from certsvc.keyring import SERVICE_OWNER
from certsvc.licences import status as st
from certsvc.licences.records import current_version
from certsvc.licences.views import public_view
from certsvc.metrics import GRANT_DOWNLOADS
from certsvc.sharing.grants import (
    DOWNLOADABLE,
    ENDED_LINK,
    grant_by_token,
    grant_state,
    refused_download,
    usable_grant,
)
from signing.marks import watermark_text
from signing.pipeline import mark

GRANT_REASON_PREFIX = "certsvc grant "


def mark_lines(g: Grant) -> list[str]:
    """The visible mark: "仅供 <grantee> 用于 <purpose>, 有效期至 <date>, 授权编号 <id>"."""
    until = g.expires_at.astimezone(CST).date().isoformat()
    return [f"仅供 {g.grantee_name} 用于 {g.purpose}", f"有效期至 {until}  授权编号 {g.id}"]


def share_view(s: Session, token: str, base_url: str) -> dict[str, Any]:
    """What a share link's page shows: the grant and its licences, or why the link no longer works."""
    try:
        g = grant_by_token(s, token)
    except NotFound:
        return {"state": "unknown", "error": {"code": "not_found", "message": "no such share link"}}
    ent = s.get(Enterprise, g.enterprise_id)
    state = grant_state(g)
    base: dict[str, Any] = {
        "state": state,
        "enterprise": {"name": ent.name if ent else None, "uscc": ent.uscc if ent else None},
        "grant": {
            "id": g.id,
            "grantee_name": g.grantee_name,
            "purpose": g.purpose,
            "expires_at": g.expires_at.isoformat(),
            "expires_on": g.expires_at.astimezone(CST).date().isoformat(),
            "max_downloads": g.max_downloads,
            "downloads": g.downloads,
        },
    }
    if state != "active":
        words = {
            "revoked": ("已被授权企业撤销", "revoked by the enterprise"),
            "expired": ("已过期", "expired"),
            "exhausted": ("下载次数已用完", "no downloads left"),
        }[state]
        ended = ended_words(s, ent) if ent is not None and state == "revoked" else None
        message = ENDED_LINK[state]
        if ended:
            words = ("持证主体营业执照已撤销，授权随之终止", ended)
            message = f"this share link has ended: {ended} ({words[0]})"
        base["error"] = {"code": f"grant_{state}", "message": message}
        base["reason_zh"], base["reason_en"] = words
        return base
    items = []
    for lid in g.licence_ids:
        lic = s.get(Licence, lid)
        if lic is None:
            continue
        ver = current_version(s, lic)
        lt = s.get(LicenceType, lic.licence_type_id)
        dept = s.get(Department, lic.department_id)
        assert lt is not None and dept is not None
        v = public_view(lic, ver, lt, dept, base_url)
        v["id"] = lic.id
        v["downloadable"] = v["status"] in DOWNLOADABLE
        v["download_url"] = f"{base_url}/s/{token}/licences/{lic.id}.pdf" if v["downloadable"] else None
        items.append(v)
    base["licences"] = items
    return base


@dataclass(frozen=True)
class MarkedCopy:
    """A marked copy of a licence for a grantee, with the name to download it under."""

    pdf: bytes
    filename: str


def _downloadable(s: Session, token: str, licence_id: str) -> tuple[Grant, Licence, LicenceVersion]:
    """The grant, licence and version a download through ``token`` would mark, or the error it gets."""
    g = usable_grant(s, token, licence_id)  # 404 unknown, 410 revoked / expired / used up
    if licence_id not in g.licence_ids:
        raise NotFound("this licence is not part of the share", denial=refused_download(s, g, "outside", None))
    lic = s.get(Licence, licence_id)
    if lic is None:
        raise NotFound("no such licence")
    ver = current_version(s, lic)
    status = st.status_of(lic, ver)
    if status not in DOWNLOADABLE:
        raise Conflict(f"the licence is {status} ({st.LABELS[status][0]}), so it cannot be downloaded")
    return g, lic, ver


def marked_copy_name(ctx: Context, token: str, licence_id: str) -> str:
    """What a ``HEAD`` of a marked-copy download answers: the file name a download would have, or the
    error it would get; nothing is marked and no download is spent."""
    with Session(ctx.engine) as s:
        g, lic, ver = _downloadable(s, token, licence_id)
        return copy_name(lic.number, ver.version, g.id)


def copy_name(number: str, version: int, grant_id: str) -> str:
    """The file name of a marked copy."""
    return f"{number}-v{version}-{grant_id[:8]}.pdf"


async def download_marked_copy(ctx: Context, token: str, licence_id: str) -> MarkedCopy:
    """A licence PDF marked for this grantee and purpose; each download counts against the grant's limit."""
    with session_scope(ctx.engine) as s:
        g, lic, ver = _downloadable(s, token, licence_id)
        # Reserve one download atomically: two grantees racing for the last one cannot both win.
        # an UPDATE gives a CursorResult; Session.execute() is typed for any statement, as Result
        result = cast(
            CursorResult[Any],
            s.execute(
                text(
                    'UPDATE "grant" SET downloads = downloads + 1 WHERE id = :id AND revoked_at IS NULL '
                    "AND (max_downloads IS NULL OR downloads < max_downloads)"
                ),
                {"id": g.id},
            ),
        )
        reserved = result.rowcount
        if reserved != 1:
            raise Gone(ENDED_LINK["exhausted"], denial=refused_download(s, g, "exhausted", licence_id))
        cert = ctx.keyring.current(s, SERVICE_OWNER, None)
        sha, number, version, holder = ver.stored_sha256, lic.number, ver.version, lic.holder_uscc
        lines = mark_lines(g)
        watermark = watermark_text(g.grantee_name, g.purpose, now().astimezone(CST).date().isoformat())
        grant_id = g.id
    original = ctx.blobs.get(sha)
    if original is None:
        raise NotFound("the licence PDF is missing from the blob store")
    try:
        pdf = await mark(
            original,
            ctx.keyring.signer(cert),
            lines=lines,
            reason=f"{GRANT_REASON_PREFIX}{grant_id}",
            ltv=ctx.keyring.ltv(cert),
            watermark=watermark,
        )
    except Exception:
        with session_scope(ctx.engine) as s:  # give the reserved download back
            s.execute(text('UPDATE "grant" SET downloads = downloads - 1 WHERE id = :id'), {"id": grant_id})
        raise
    with session_scope(ctx.engine) as s:
        log_access(s, holder, "grant_download", licence_id=licence_id, grant_id=grant_id)
        audit.record_access(
            s,
            "grant.download",
            actor_kind="public",
            subject_kind="licence",
            subject_id=licence_id,
            details={"grant": grant_id, "version": version},
        )
    GRANT_DOWNLOADS.inc()
    return MarkedCopy(pdf, copy_name(number, version, grant_id))

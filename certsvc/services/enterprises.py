"""The enterprise's side: activation, its licences, grants (授权下载), its access log, look-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from certsvc import audit
from certsvc.db.models import (
    AccessEvent,
    ActivationAttempt,
    ApiCredential,
    Department,
    Enterprise,
    Grant,
    Licence,
    VerificationCount,
    utcnow,
)
from certsvc.errors import Gone, Invalid, NotFound, TooManyRequests, Unauthorized
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.security import hash_secret, matches, new_bearer, new_token, normalise_activation_code
from certsvc.services import status as st
from certsvc.services.holders import holder_licences

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MAX_GRANT_DAYS = 90
DEFAULT_GRANT_DAYS = 30
_ID_CARD = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def valid_id_card(value: str) -> bool:
    """GB 11643 citizen ID number with its ISO 7064 MOD 11-2 check character."""
    if not _ID_CARD.match(value):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17]


def mask_id(value: str | None) -> str | None:
    if not value:
        return None
    return value if len(value) < 8 else f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


# --- activation ---------------------------------------------------------------------------


def activate(s: Session, uscc: str, code: str) -> str:
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    since = utcnow() - FAILURE_WINDOW
    failures = s.exec(
        select(func.count())
        .select_from(ActivationAttempt)
        .where(ActivationAttempt.uscc == uscc, ActivationAttempt.at > since)
    ).one()
    if failures >= MAX_FAILURES:
        raise TooManyRequests(f"too many failed attempts for {uscc}; try again in 15 minutes")
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    ok = (
        ent is not None
        and ent.activation_code_hash is not None
        and matches(normalise_activation_code(code).replace("-", ""), ent.activation_code_hash)
    )
    if not ok or ent is None:
        s.add(ActivationAttempt(uscc=uscc))
        audit.record(s, "enterprise.activate_failed", actor_kind="public", subject_kind="enterprise", subject_id=uscc)
        raise Unauthorized("wrong or already used activation code")
    ent.activation_code_hash = None  # one time only
    ent.activated_at = utcnow()
    secret = new_bearer("cse")
    s.add(ApiCredential(kind="enterprise", owner_id=ent.id or 0, prefix=secret.prefix, secret_hash=secret.secret_hash))
    s.add(ent)
    audit.record(
        s, "enterprise.activate", actor_kind="enterprise", actor_id=ent.id, subject_kind="enterprise", subject_id=ent.id
    )
    return secret.token


# --- grants -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewGrant:
    grant: Grant
    token: str


def create_grant(
    s: Session,
    ent: Enterprise,
    *,
    licence_ids: list[str] | None,
    all_current: bool,
    grantee_name: str,
    grantee_id: str | None,
    purpose: str,
    expires_in_days: int | None,
    max_downloads: int | None,
) -> NewGrant:
    grantee_name = grantee_name.strip()
    purpose = purpose.strip()
    if not grantee_name:
        raise Invalid("grantee_name: required", field="grantee_name")
    if not purpose:
        raise Invalid("purpose: required (用证事由)", field="purpose")
    if grantee_id:
        grantee_id = grantee_id.strip().upper()
        try:
            validate_uscc(grantee_id)
        except IdentifierError:
            if not valid_id_card(grantee_id):
                raise Invalid(
                    "grantee_id: neither a valid USCC nor a valid ID card number", field="grantee_id"
                ) from None
    days = DEFAULT_GRANT_DAYS if expires_in_days is None else expires_in_days
    if not 1 <= days <= MAX_GRANT_DAYS:
        raise Invalid(f"expires_in_days: between 1 and {MAX_GRANT_DAYS}", field="expires_in_days")
    if max_downloads is not None and not 1 <= max_downloads <= 1000:
        raise Invalid("max_downloads: between 1 and 1000", field="max_downloads")
    held = {lic.id: (lic, ver) for lic, ver, _lt, _d in holder_licences(s, ent.uscc)}
    if all_current:
        ids = [i for i, (lic, ver) in held.items() if st.status_of(lic, ver) == st.VALID]
        if not ids:
            raise Invalid("all_current: the enterprise holds no current licence", field="all_current")
    else:
        ids = list(dict.fromkeys(licence_ids or []))
        if not ids:
            raise Invalid("licence_ids: name at least one licence, or set all_current", field="licence_ids")
        for i in ids:
            if i not in held:
                raise Invalid(f"licence_ids: {i} is not a licence of this enterprise", field="licence_ids")
    token = new_token(24)
    g = Grant(
        enterprise_id=ent.id or 0,
        token_hash=hash_secret(token),
        licence_ids=ids,
        grantee_name=grantee_name,
        grantee_id=grantee_id,
        purpose=purpose,
        expires_at=utcnow() + timedelta(days=days),
        max_downloads=max_downloads,
    )
    s.add(g)
    s.flush()
    audit.record(
        s,
        "grant.create",
        actor_kind="enterprise",
        actor_id=ent.id,
        subject_kind="grant",
        subject_id=g.id,
        details={
            "licences": ids,
            "grantee": grantee_name,
            "purpose": purpose,
            "days": days,
            "max_downloads": max_downloads,
        },
    )
    return NewGrant(g, token)


def grant_state(g: Grant) -> str:
    if g.revoked_at is not None:
        return "revoked"
    if g.expires_at <= utcnow():
        return "expired"
    if g.max_downloads is not None and g.downloads >= g.max_downloads:
        return "exhausted"
    return "active"


def grant_summary(g: Grant, base_url: str) -> dict[str, Any]:
    return {
        "id": g.id,
        "licence_ids": g.licence_ids,
        "grantee_name": g.grantee_name,
        "grantee_id": mask_id(g.grantee_id),
        "purpose": g.purpose,
        "created_at": g.created_at.isoformat(),
        "expires_at": g.expires_at.isoformat(),
        "max_downloads": g.max_downloads,
        "downloads": g.downloads,
        "state": grant_state(g),
        "qr_url": f"{base_url}/api/v1/enterprise/grants/{g.id}/qr.png",
    }


def own_grant(s: Session, ent: Enterprise, grant_id: str) -> Grant:
    g = s.get(Grant, grant_id)
    if g is None or g.enterprise_id != ent.id:
        raise NotFound("no such grant")
    return g


def revoke_grant(s: Session, ent: Enterprise, grant_id: str) -> Grant:
    g = own_grant(s, ent, grant_id)
    if g.revoked_at is None:
        g.revoked_at = utcnow()
        s.add(g)
        audit.record(s, "grant.revoke", actor_kind="enterprise", actor_id=ent.id, subject_kind="grant", subject_id=g.id)
    return g


def grant_by_token(s: Session, token: str) -> Grant:
    if not token or len(token) > 100:
        raise NotFound("no such share link")
    g = s.exec(select(Grant).where(Grant.token_hash == hash_secret(token))).first()
    if g is None:
        raise NotFound("no such share link")
    return g


def usable_grant(s: Session, token: str) -> Grant:
    g = grant_by_token(s, token)
    state = grant_state(g)
    if state != "active":
        words = {
            "revoked": "revoked by the enterprise (已撤销)",
            "expired": "expired (已过期)",
            "exhausted": "used up: no downloads left (次数已用完)",
        }
        raise Gone(
            f"this share link was {words[state]}" if state == "revoked" else f"this share link has {words[state]}"
        )
    return g


# --- access log -----------------------------------------------------------------------------


def log_access(
    s: Session,
    holder_uscc: str,
    kind: str,
    *,
    licence_id: str | None = None,
    grant_id: str | None = None,
    department_id: int | None = None,
    purpose: str | None = None,
) -> None:
    s.add(
        AccessEvent(
            holder_uscc=holder_uscc,
            licence_id=licence_id,
            kind=kind,
            grant_id=grant_id,
            department_id=department_id,
            purpose=purpose,
        )
    )


def access_log(s: Session, ent: Enterprise, *, page: int, per_page: int) -> dict[str, Any]:
    depts = {d.id: d.name for d in s.exec(select(Department))}
    q = (
        select(AccessEvent)
        .where(AccessEvent.holder_uscc == ent.uscc)
        .order_by(AccessEvent.at.desc(), AccessEvent.id.desc())
    )  # type: ignore[attr-defined]
    total = s.exec(select(func.count()).select_from(AccessEvent).where(AccessEvent.holder_uscc == ent.uscc)).one()
    events = s.exec(q.offset((page - 1) * per_page).limit(per_page)).all()
    licence_ids = [lic.id for lic in s.exec(select(Licence).where(Licence.holder_uscc == ent.uscc))]
    counts = []
    if licence_ids:
        rows = s.exec(
            select(VerificationCount)
            .where(VerificationCount.licence_id.in_(licence_ids))  # type: ignore[attr-defined]
            .order_by(VerificationCount.day.desc())  # type: ignore[attr-defined]
            .limit(400)
        ).all()
        counts = [{"licence_id": r.licence_id, "day": r.day.isoformat(), "count": r.count} for r in rows]
    return {
        "page": page,
        "per_page": per_page,
        "total": total,
        "items": [
            {
                "at": e.at.isoformat(),
                "kind": e.kind,
                "licence_id": e.licence_id,
                "grant_id": e.grant_id,
                "department": depts.get(e.department_id) if e.department_id else None,
                "purpose": e.purpose,
            }
            for e in events
        ],
        "verification_counts": counts,
    }

"""The enterprise's account: activation with the one-time code, and its access log (who looked at
or downloaded its licences)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.db.models import (
    AccessEvent,
    ActivationAttempt,
    ApiCredential,
    Department,
    Enterprise,
    Licence,
    VerificationCount,
    utcnow,
)
from certsvc.errors import Invalid, TooManyRequests, Unauthorized
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.security import matches, new_bearer, normalise_activation_code

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


# --- activation ---------------------------------------------------------------------------


def activate(s: Session, uscc: str, code: str) -> str:
    """Exchange a holder's one-time activation code for a portal token; repeated failures are throttled."""
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
    """Record who looked at a holder's licences, so that the holder can see it in the portal."""
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
    """One page of who accessed this enterprise's licences, with the daily QR scan counts."""
    depts = {d.id: d.name for d in s.exec(select(Department))}
    q = (
        select(AccessEvent)
        .where(AccessEvent.holder_uscc == ent.uscc)
        .order_by(col(AccessEvent.at).desc(), col(AccessEvent.id).desc())
    )
    total = s.exec(select(func.count()).select_from(AccessEvent).where(AccessEvent.holder_uscc == ent.uscc)).one()
    events = s.exec(q.offset((page - 1) * per_page).limit(per_page)).all()
    licence_ids = [lic.id for lic in s.exec(select(Licence).where(Licence.holder_uscc == ent.uscc))]
    counts = []
    if licence_ids:
        rows = s.exec(
            select(VerificationCount)
            .where(col(VerificationCount.licence_id).in_(licence_ids))
            .order_by(col(VerificationCount.day).desc())
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
                "attempts": e.attempts,
            }
            for e in events
        ],
        "verification_counts": counts,
    }

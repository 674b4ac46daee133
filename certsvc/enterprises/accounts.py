"""The enterprise's account: activation with the one-time code, and its access log (who looked at
or downloaded its licences)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.core.config import Settings
from certsvc.core.head_only import head_only
from certsvc.db.atomic import changed_rows
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
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.errors import Invalid, TooManyRequests, Unauthorized
from certsvc.identifiers import IdentifierError, validate_uscc
from certsvc.security import matches, new_bearer, normalise_activation_code

# --- activation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivationLimits:
    """How failed activations are limited (``CERTSVC_ACTIVATION_*``; see the README).

    Guessing a code is hopeless (80 bits), so the limits only keep guessers from wasting the
    service's time; they are per client address, so a stranger's failures never lock out the holder.
    """

    window: timedelta = timedelta(minutes=15)
    per_client: int = 10
    per_uscc: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> ActivationLimits:
        """The limits configured for this service."""
        return cls(
            timedelta(seconds=settings.activation_window_s),
            settings.activation_failures_per_client,
            settings.activation_failures_per_uscc,
        )


def _retry_after(s: Session, where: list[Any], limit: int, since: datetime, window: timedelta) -> int | None:
    """Seconds until fewer than ``limit`` failures matching ``where`` are left in the window; None if already."""
    q = (
        select(ActivationAttempt.at)
        .where(col(ActivationAttempt.at) > since, *where)
        .order_by(col(ActivationAttempt.at).desc())
        .offset(limit - 1)
        .limit(1)
    )
    at = s.exec(q).first()
    if at is None:
        return None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return max(1, math.ceil((at + window - utcnow()).total_seconds()))


def _check_limits(s: Session, uscc: str, client: str, limits: ActivationLimits) -> None:
    """429 for an address with too many failures, or one that already failed for a USCC under attack."""
    since = utcnow() - limits.window
    wait = _retry_after(s, [col(ActivationAttempt.client) == client], limits.per_client, since, limits.window)
    if wait is not None:
        raise TooManyRequests(
            f"too many failed activation attempts from your address; try again in {wait} seconds", retry_after=wait
        )
    # Guessing spread over many addresses: once a USCC has had many failures, an address that has
    # already failed for it waits for the window; an address that has not (the holder) may still try.
    if _retry_after(s, [col(ActivationAttempt.uscc) == uscc], limits.per_uscc, since, limits.window) is not None:
        wait = _retry_after(
            s,
            [col(ActivationAttempt.uscc) == uscc, col(ActivationAttempt.client) == client],
            1,
            since,
            limits.window,
        )
        if wait is not None:
            raise TooManyRequests(
                f"too many failed activation attempts for {uscc}; try again in {wait} seconds", retry_after=wait
            )


def _failed(s: Session, uscc: str, client: str, limits: ActivationLimits) -> Unauthorized:
    """Record a failed attempt (it counts towards the limits) and the error to raise."""
    s.execute(delete(ActivationAttempt).where(col(ActivationAttempt.at) < utcnow() - limits.window))
    s.add(ActivationAttempt(uscc=uscc, client=client))
    audit.record(
        s,
        "enterprise.activate_failed",
        actor_kind="public",
        subject_kind="enterprise",
        subject_id=uscc,
        details={"client": client},
    )
    return Unauthorized("wrong or already used activation code")


def activate(s: Session, uscc: str, code: str, client: str, limits: ActivationLimits | None = None) -> str:
    """Exchange a holder's one-time activation code for a portal token; failures are limited per client address.

    The code is consumed by a conditional update, so of several simultaneous activations with
    it exactly one gets a token. A failure is recorded in ``s``: the caller commits it before
    raising :class:`Unauthorized` on.
    """
    limits = limits or ActivationLimits()
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    _check_limits(s, uscc, client, limits)
    ent = s.exec(select(Enterprise).where(Enterprise.uscc == uscc)).first()
    seen = ent.activation_code_hash if ent is not None else None
    if ent is None or seen is None or not matches(normalise_activation_code(code).replace("-", ""), seen):
        raise _failed(s, uscc, client, limits)
    consume = (
        update(Enterprise)
        .where(col(Enterprise.id) == ent.id, col(Enterprise.activation_code_hash) == seen)
        .values(activation_code_hash=None, activated_at=utcnow())
    )
    if changed_rows(s, consume) != 1:  # another request used the code a moment ago
        raise _failed(s, uscc, client, limits)
    s.refresh(ent)
    secret = new_bearer("cse")
    s.add(ApiCredential(kind="enterprise", owner_id=ent.id or 0, prefix=secret.prefix, secret_hash=secret.secret_hash))
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
    matter: str | None = None,
) -> None:
    """Record who looked at a holder's licences (and for which matter, a 免提交 look-up), so that the
    holder can see it in the portal. A ``HEAD`` is not logged."""
    if head_only():
        return
    s.add(
        AccessEvent(
            holder_uscc=holder_uscc,
            licence_id=licence_id,
            kind=kind,
            grant_id=grant_id,
            department_id=department_id,
            purpose=purpose,
            matter=matter,
        )
    )


ACCESS = Keyset("access-log", (Key(col(AccessEvent.at), datetime, True), Key(col(AccessEvent.id), int, True)))


def _event_view(e: AccessEvent, depts: dict[int | None, str]) -> dict[str, Any]:
    return {
        "at": e.at.isoformat(),
        "kind": e.kind,
        "licence_id": e.licence_id,
        "grant_id": e.grant_id,
        "department": depts.get(e.department_id) if e.department_id else None,
        "purpose": e.purpose,
        "matter": e.matter,
        "attempts": e.attempts,
    }


def _verification_counts(s: Session, ent: Enterprise) -> list[dict[str, Any]]:
    licence_ids = [lic.id for lic in s.exec(select(Licence).where(Licence.holder_uscc == ent.uscc))]
    if not licence_ids:
        return []
    rows = s.exec(
        select(VerificationCount)
        .where(col(VerificationCount.licence_id).in_(licence_ids))
        .order_by(col(VerificationCount.day).desc())
        .limit(400)
    ).all()
    return [{"licence_id": r.licence_id, "day": r.day.isoformat(), "count": r.count} for r in rows]


def access_log_page(s: Session, ent: Enterprise, page: PageRequest) -> dict[str, Any]:
    """A page of who accessed this enterprise's licences, newest first, with the daily QR scan counts."""
    depts: dict[int | None, str] = {d.id: d.name for d in s.exec(select(Department))}
    q = select(AccessEvent).where(AccessEvent.holder_uscc == ent.uscc)
    rows = s.exec(page_query(q, ACCESS, page)).all()  # type: ignore[call-overload]
    found: Page[AccessEvent] = page_of(rows, ACCESS, page, lambda e: (e.at, e.id))
    return found.answer(lambda e: _event_view(e, depts), verification_counts=_verification_counts(s, ent))


def access_log(s: Session, ent: Enterprise, *, page: int, per_page: int) -> dict[str, Any]:
    """One numbered page of the access log, for the portal's pages, with the daily QR scan counts."""
    depts: dict[int | None, str] = {d.id: d.name for d in s.exec(select(Department))}
    q = (
        select(AccessEvent)
        .where(AccessEvent.holder_uscc == ent.uscc)
        .order_by(col(AccessEvent.at).desc(), col(AccessEvent.id).desc())
    )
    total = s.exec(select(func.count()).select_from(AccessEvent).where(AccessEvent.holder_uscc == ent.uscc)).one()
    events = s.exec(q.offset((page - 1) * per_page).limit(per_page)).all()
    return {
        "page": page,
        "per_page": per_page,
        "total": total,
        "items": [_event_view(e, depts) for e in events],
        "verification_counts": _verification_counts(s, ent),
    }

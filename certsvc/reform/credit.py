"""Credit restrictions (信用约束): holders on the serious-dishonesty list may not use commitment,
filing or 容缺 until the restriction ends (its ``until`` day, China time, is the last one) or is lifted.

Only a department created with ``--credit`` keeps the list; every change is audited, and a
refused attempt by another department is recorded as a denial.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.core.clock import CST, now, today
from certsvc.db.atomic import changed_rows
from certsvc.db.models import CreditRestriction, Department, utcnow
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.errors import CreditRestricted, Denial, Forbidden, Invalid, NotFound
from certsvc.identifiers import IdentifierError, validate_uscc

MAX_PAGE = 200


def _refuse_unless_credit(dept: Department, action: str) -> None:
    if not dept.is_credit:
        raise Forbidden(
            f"only a credit department (created with --credit) may {action} credit restrictions",
            denial=Denial(
                "credit_list_refused", actor_kind="department", actor_id=dept.id, reason=f"{action}: not a credit dept"
            ),
        )


def restriction_view(r: CreditRestriction, on: date | None = None) -> dict[str, Any]:
    """A restriction as the API shows it, with whether it is in force today (or ``on``)."""
    return {
        "id": r.id,
        "uscc": r.uscc,
        "reason": r.reason,
        "until": r.until.isoformat(),
        "created_at": r.created_at.isoformat(),
        "lifted_at": r.lifted_at.isoformat() if r.lifted_at else None,
        "active": r.lifted_at is None and (on or today()) <= r.until,
    }


def add_restriction(s: Session, dept: Department, *, uscc: str, reason: str, until: date) -> CreditRestriction:
    """Put ``uscc`` on the list until ``until`` (inclusive); 422 for a bad USCC or a day already past."""
    _refuse_unless_credit(dept, "add")
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as e:
        raise Invalid(f"uscc: {e}", field="uscc") from e
    reason = reason.strip()
    if not reason:
        raise Invalid("reason: required", field="reason")
    if until < today():
        raise Invalid(f"until: {until.isoformat()} is in the past", field="until")
    r = CreditRestriction(department_id=dept.id or 0, uscc=uscc, reason=reason, until=until)
    s.add(r)
    s.flush()
    audit.record(
        s,
        "credit.restrict",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="credit_restriction",
        subject_id=r.id,
        details={"uscc": uscc, "reason": reason, "until": until.isoformat()},
    )
    return r


RESTRICTIONS = Keyset(
    "credit-restrictions",
    (Key(col(CreditRestriction.created_at), datetime, True), Key(col(CreditRestriction.id), str, True)),
)


def list_restrictions(s: Session, dept: Department, page: PageRequest, *, uscc: str | None = None) -> dict[str, Any]:
    """A page of the list (newest first), optionally for one USCC: ``{"items", "next_cursor"}``."""
    _refuse_unless_credit(dept, "read")
    q = select(CreditRestriction)
    if uscc:
        q = q.where(CreditRestriction.uscc == uscc.strip().upper())
    rows = s.exec(page_query(q, RESTRICTIONS, page)).all()  # type: ignore[call-overload]
    found: Page[CreditRestriction] = page_of(rows, RESTRICTIONS, page, lambda r: (r.created_at, r.id))
    return found.answer(restriction_view)


def lift_restriction(s: Session, dept: Department, restriction_id: str) -> CreditRestriction:
    """Lift a restriction this department added (others' are 403); lifting twice is a no-op."""
    _refuse_unless_credit(dept, "lift")
    r = s.get(CreditRestriction, restriction_id)
    if r is None:
        raise NotFound("no such credit restriction")
    if r.department_id != dept.id:
        raise Forbidden(
            "only the department that added a credit restriction may lift it",
            denial=Denial(
                "credit_list_refused",
                actor_kind="department",
                actor_id=dept.id,
                subject_kind="credit_restriction",
                subject_id=r.id,
                reason="lift: another department's restriction",
            ),
        )
    at = utcnow()
    stmt = (
        update(CreditRestriction)
        .where(col(CreditRestriction.id) == r.id, col(CreditRestriction.lifted_at).is_(None))
        .values(lifted_at=at)
    )
    if changed_rows(s, stmt) == 1:
        audit.record(
            s,
            "credit.lift",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="credit_restriction",
            subject_id=r.id,
            details={"uscc": r.uscc},
        )
    s.refresh(r)
    return r


def refuse_if_credit_restricted(
    session: Session,
    uscc: str,
    at: datetime | None = None,
    *,
    actor_kind: str = "public",
    actor_id: str | int | None = None,
    what: str = "this",
) -> None:
    """409 ``credit_restricted`` when ``uscc`` is on the list at ``at`` (default now): not lifted,
    and ``at`` falls on or before its ``until`` day in China. ``what`` names the refused use."""
    day = (at or now()).astimezone(CST).date()
    r = session.exec(
        select(CreditRestriction)
        .where(
            CreditRestriction.uscc == uscc,
            col(CreditRestriction.lifted_at).is_(None),
            col(CreditRestriction.until) >= day,
        )
        .order_by(col(CreditRestriction.until).desc())
    ).first()
    if r is None:
        return
    raise CreditRestricted(
        f"{uscc} is under a credit restriction (信用约束) until {r.until.isoformat()}: {r.reason}; "
        f"{what} is not available to it",
        denial=Denial(
            "credit_restricted",
            actor_kind=actor_kind,
            actor_id=actor_id,
            subject_kind="credit_restriction",
            subject_id=r.id,
            reason=what,
        ),
    )

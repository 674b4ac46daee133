"""A commitment's status as people read it, and how it shows with its licence: the part of
告知承诺 that issuance and verification need (no lifecycle imports, so both may use it)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from certsvc.core.clock import CST
from certsvc.db.atomic import changed_rows
from certsvc.db.models import Commitment, LicenceType
from certsvc.errors import Conflict, Invalid
from certsvc.reform.credit import refuse_if_credit_restricted

SIGNED = "signed"  # signed by the enterprise, not yet used to issue
PENDING = "pending"
OVERDUE = "overdue"
FULFILLED = "fulfilled"
UNFULFILLED = "unfulfilled"
DECIDED = (FULFILLED, UNFULFILLED)

LABELS = {
    SIGNED: ("已签署，未使用", "Signed, not yet used"),
    PENDING: ("承诺待核查", "Commitment pending check"),
    OVERDUE: ("承诺逾期未核查", "Commitment overdue"),
    FULFILLED: ("承诺已履行", "Commitment fulfilled"),
    UNFULFILLED: ("承诺不实", "Commitment not fulfilled"),
}
OVERDUE_REASON = "逾期未履行告知承诺"
"""The reason of a suspension made by the sweep (so that recording fulfilment resumes the licence)."""


def status_on(status: str, due: date | None, on: date) -> str:
    """The status on day ``on`` (China): a pending commitment past its due day reads as overdue at
    once, even before the sweep records it."""
    if status == PENDING and due is not None and on > due:
        return OVERDUE
    return status


def status_at(status: str, due: date | None, decided_at: datetime | None, at: datetime) -> str:
    """The status as of the moment ``at``, for ``?at=``: a result counts from when it was recorded."""
    if status in DECIDED and decided_at is not None and decided_at <= at:
        return status
    return status_on(PENDING, due, at.astimezone(CST).date())


def public_commitment(
    cid: str, status: str, due: date | None, text: str, signed_at: datetime, decided_at: datetime | None,
    base_url: str, on: date,
) -> dict[str, Any]:  # fmt: skip
    """A commitment as anyone may see it with its licence (企业承诺内容应向社会公开)."""
    shown = status_on(status, due, on)
    zh, en = LABELS[shown]
    return {
        "id": cid,
        "status": shown,
        "status_label": zh,
        "status_label_en": en,
        "due": due.isoformat() if due else None,
        "text": text,
        "signed_at": signed_at.isoformat(),
        "decided_at": decided_at.isoformat() if decided_at else None,
        "pdf_url": f"{base_url}/commitments/{cid}.pdf",
    }


def as_of(view: dict[str, Any], decided_status: str, at: datetime) -> None:
    """The commitment of a public view as of ``at`` (the view's ``commitment`` is changed in place)."""
    c = view.get("commitment")
    if not c:
        return
    decided_at = datetime.fromisoformat(c["decided_at"]) if c.get("decided_at") else None
    due = date.fromisoformat(c["due"]) if c.get("due") else None
    shown = status_at(decided_status, due, decided_at, at)
    c["status"] = shown
    c["status_label"], c["status_label_en"] = LABELS[shown]


def check_for_issue(s: Session, lt: LicenceType, holder_uscc: str, commitment_id: str, dept_id: int | None) -> None:
    """A ``commitment_id`` of an issue request must be the holder's, for this type, unused (4xx
    naming ``commitment_id``), and the holder not under a credit restriction (409)."""
    c = s.get(Commitment, commitment_id.strip())
    if c is None:
        raise Invalid("commitment_id: no such commitment", field="commitment_id")
    if lt.reform_mode != "commitment":
        raise Invalid(f"commitment_id: licence type {lt.code} is not in commitment mode", field="commitment_id")
    if c.holder_uscc != holder_uscc:
        raise Invalid("commitment_id: the commitment was signed by another enterprise", field="commitment_id")
    if c.licence_type_id != lt.id:
        raise Invalid(f"commitment_id: the commitment is not for licence type {lt.code}", field="commitment_id")
    if c.licence_id is not None:
        raise Conflict("commitment_id: the commitment was already used to issue a licence", field="commitment_id")
    refuse_if_credit_restricted(
        s, holder_uscc, actor_kind="department", actor_id=dept_id, what="issuing with a commitment (告知承诺)"
    )


def bind(s: Session, commitment_id: str, licence_id: str, issued_on: date) -> date:
    """Tie the commitment to the licence just issued, in its transaction: pending from now, due
    ``conditions_due_days`` later; compare-and-set, so a commitment serves one licence only."""
    c = s.get(Commitment, commitment_id.strip())
    assert c is not None  # checked before sealing; commitments are never deleted
    due = issued_on + timedelta(days=c.conditions_due_days)
    stmt = (
        update(Commitment)
        .where(col(Commitment.id) == c.id, col(Commitment.licence_id).is_(None), col(Commitment.status) == SIGNED)
        .values(licence_id=licence_id, status=PENDING, due=due)
    )
    if changed_rows(s, stmt) != 1:
        raise Conflict(
            "commitment_id: the commitment was used to issue another licence meanwhile", field="commitment_id"
        )
    return due

"""Notification-commitments (实行告知承诺): the enterprise signs the type's commitment text with its
business-licence signature; the department issues with it and the licence is valid at once, its
commitment pending until the department records the check (核查): fulfilled, or unfulfilled,
which withdraws the licence (撤销, 承诺不实). Past the due day without a result it is overdue, and
suspended if the type says so (:func:`sweep_commitments`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.context import Context
from certsvc.core.clock import CST, today
from certsvc.db.atomic import changed_rows
from certsvc.db.models import Commitment, Department, Enterprise, Licence, utcnow
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.db.session import session_scope
from certsvc.departments.owned import owned_by
from certsvc.enterprises.standing import refuse_unless_in_good_standing
from certsvc.errors import Conflict, Invalid, NotFound
from certsvc.events.outbox import emit
from certsvc.licences import status as st
from certsvc.licences.lifecycle import apply_state
from certsvc.licences.records import owned
from certsvc.reform import terms
from certsvc.reform.credit import refuse_if_credit_restricted
from certsvc.reform.forms import department_and_type, signed_form

REVOKE_REASON = "承诺不实"


def commitment_text(s: Session, department: str, licence_type: str) -> dict[str, Any]:
    """The commitment text of a type in commitment mode, for anyone to read before signing."""
    dept, lt = department_and_type(s, department, licence_type)
    if lt.reform_mode != "commitment" or not lt.commitment:
        raise Invalid(f"licence_type: {lt.code} is not in commitment mode (实行告知承诺)", field="licence_type")
    return {
        "department": dept.code,
        "department_name": dept.name,
        "licence_type": lt.code,
        "licence_type_name": lt.name,
        **lt.commitment,
    }


def commitment_view(
    c: Commitment, base_url: str, *, public: bool = False, for_department: bool = False
) -> dict[str, Any]:
    """A commitment for its enterprise, or ``for_department`` (its PDF then under the department's
    route); ``public``: as on ``/v/``, without the note."""
    view = terms.public_commitment(c.id, c.status, c.due, c.text, c.signed_at, c.decided_at, base_url, today())
    if public:
        return view
    view.update(
        licence_id=c.licence_id,
        conditions_due_days=c.conditions_due_days,
        on_overdue=c.on_overdue,
        note=c.note,
        pdf_url=f"{base_url}/api/v1/{'' if for_department else 'enterprise/'}commitments/{c.id}/pdf",
        public_pdf_url=view["pdf_url"] if c.licence_id else None,
    )
    return view


async def sign_commitment(ctx: Context, ent: Enterprise, department: str, licence_type: str) -> Commitment:
    """The enterprise signs the type's commitment text (a PDF with its business-licence signature)."""
    with Session(ctx.engine) as s:
        dept, lt = department_and_type(s, department, licence_type)
        if lt.reform_mode != "commitment" or not lt.commitment:
            raise Invalid(f"licence_type: {lt.code} is not in commitment mode (实行告知承诺)", field="licence_type")
        refuse_unless_in_good_standing(s, ent, "sign a commitment")
        refuse_if_credit_restricted(
            s, ent.uscc, actor_kind="enterprise", actor_id=ent.id, what="the commitment mode (告知承诺)"
        )
        s.expunge_all()
    spec = lt.commitment
    c = Commitment(
        enterprise_id=ent.id or 0,
        holder_uscc=ent.uscc,
        department_id=dept.id or 0,
        licence_type_id=lt.id or 0,
        text=spec["text"],
        conditions_due_days=spec["conditions_due_days"],
        on_overdue=spec["on_overdue"],
        pdf_sha256="",
    )
    _pdf, c.pdf_sha256 = await signed_form(
        ctx,
        ent,
        title="告知承诺书",
        reference=c.id,
        rows=[
            ("承诺事项", lt.name),
            ("审批部门", dept.name),
            ("履行期限", f"取得许可之日起{c.conditions_due_days}日内符合许可条件"),
        ],
        text=c.text,
        footer="本承诺书以电子营业执照签章，承诺内容向社会公开",
        signer_label="承诺人",
    )
    with session_scope(ctx.engine) as s:
        s.add(c)
        s.flush()
        audit.record(
            s,
            "commitment.sign",
            actor_kind="enterprise",
            actor_id=ent.id,
            subject_kind="commitment",
            subject_id=c.id,
            details={"licence_type": lt.code, "department": dept.code, "sha256": c.pdf_sha256},
        )
        s.refresh(c)
        s.expunge(c)
    return c


def commitments_of(s: Session, ent: Enterprise) -> list[Commitment]:
    """The enterprise's commitments, newest first."""
    q = select(Commitment).where(Commitment.enterprise_id == ent.id).order_by(*COMMITMENTS.order_by())
    return list(s.exec(q).all())


COMMITMENTS = Keyset(
    "commitments", (Key(col(Commitment.signed_at), datetime, True), Key(col(Commitment.id), str, True))
)


def commitments_page(s: Session, ent: Enterprise, page: PageRequest, base_url: str) -> dict[str, Any]:
    """A page of the enterprise's commitments, newest first."""
    q = select(Commitment).where(Commitment.enterprise_id == ent.id)
    rows = s.exec(page_query(q, COMMITMENTS, page)).all()  # type: ignore[call-overload]
    found: Page[Commitment] = page_of(rows, COMMITMENTS, page, lambda c: (c.signed_at, c.id))
    return found.answer(lambda c: commitment_view(c, base_url))


def own_commitment(s: Session, ent: Enterprise, commitment_id: str) -> Commitment:
    """One of the enterprise's commitments (404 for another's)."""
    c = s.get(Commitment, commitment_id)
    if c is None or c.enterprise_id != ent.id:
        raise NotFound("no such commitment")
    return c


def department_commitment(s: Session, dept: Department, commitment_id: str) -> Commitment:
    """A commitment for one of the department's types, to check before issuing with it (404 for
    another department's, recorded as a denied attempt)."""
    return owned_by(s, dept, Commitment, commitment_id, "commitment", "commitment")


def department_commitment_download(s: Session, dept: Department, commitment_id: str) -> Commitment:
    """As :func:`department_commitment`, for downloading its signed PDF: the download is audited."""
    c = department_commitment(s, dept, commitment_id)
    audit.record_access(
        s, "commitment.download", actor_kind="department", actor_id=dept.id, subject_kind="commitment", subject_id=c.id
    )
    return c


def public_commitment_pdf(s: Session, commitment_id: str) -> Commitment:
    """A commitment anyone may download: one a licence was issued with (企业承诺内容应向社会公开)."""
    c = s.get(Commitment, commitment_id)
    if c is None or c.licence_id is None:
        raise NotFound("no such public commitment")
    return c


def licence_commitment(s: Session, licence_id: str, base_url: str) -> dict[str, Any] | None:
    """The commitment a licence was issued with, for its department and holder (None if none)."""
    c = s.exec(select(Commitment).where(Commitment.licence_id == licence_id)).first()
    return commitment_view(c, base_url, for_department=True) if c else None


def record_result(
    ctx: Context, dept: Department, licence_id: str, result: str, note: str | None
) -> dict[str, Any] | None:
    """The department's check (核查) of a commitment: ``fulfilled`` (a licence suspended as overdue
    resumes) or ``unfulfilled`` (the licence is withdrawn: 撤销, 承诺不实). Once only (409 after)."""
    if result not in terms.DECIDED:
        raise Invalid("result: fulfilled or unfulfilled", field="result")
    note = (note or "").strip() or None
    with session_scope(ctx.engine) as s:
        lic = owned(s, dept, licence_id)
        c = s.exec(select(Commitment).where(Commitment.licence_id == lic.id)).first()
        if c is None:
            raise Conflict("this licence was not issued with a commitment (告知承诺)")
        at = utcnow()
        stmt = (
            update(Commitment)
            .where(col(Commitment.id) == c.id, col(Commitment.status).in_([terms.PENDING, terms.OVERDUE]))
            .values(status=result, decided_at=at, note=note)
        )
        if changed_rows(s, stmt) != 1:
            s.refresh(c)
            raise Conflict(f"result: the commitment's result is already recorded ({c.status})", field="result")
        s.refresh(lic)  # a sweep may have suspended it while this update waited for its lock
        audit.record(
            s,
            f"commitment.{result}",
            actor_kind="department",
            actor_id=dept.id,
            subject_kind="commitment",
            subject_id=c.id,
            details={"licence_id": lic.id, "note": note},
        )
        if result == terms.UNFULFILLED and lic.state in (st.VALID, st.SUSPENDED):
            # the fixed reason only: the state reason is public on /v/, the inspector's note is not
            apply_state(
                s, ctx.keyring, lic, "revoke", REVOKE_REASON, kind="撤销", actor_kind="department", actor_id=dept.id
            )
        elif result == terms.FULFILLED and lic.state == st.SUSPENDED and lic.state_reason == terms.OVERDUE_REASON:
            apply_state(s, ctx.keyring, lic, "resume", "告知承诺已核查履行", actor_kind="department", actor_id=dept.id)
        s.refresh(c)
        return commitment_view(c, ctx.settings.public_base_url, for_department=True)


SWEEP_BATCH = 500  # per transaction; the sweep runs again while it finds work


def sweep_commitments(session: Session, at: datetime) -> int:
    """Mark pending commitments whose due day (China) is before ``at`` as overdue, suspending their
    licence where the type says ``suspend``; in the caller's transaction. Each change is made by a
    compare-and-set and audited once, so several processes may sweep at the same time. Returns how
    many commitments it marked."""
    day = at.astimezone(CST).date() if at.tzinfo else at.replace(tzinfo=CST).date()
    due = session.exec(
        select(Commitment)
        .join(Licence, col(Licence.id) == col(Commitment.licence_id))
        .where(Commitment.status == terms.PENDING, col(Commitment.due) < day, col(Licence.state) != st.REVOKED)
        .order_by(col(Commitment.due), col(Commitment.id))
        .limit(SWEEP_BATCH)
    ).all()
    marked = 0
    for c in due:
        stmt = (
            update(Commitment)
            .where(col(Commitment.id) == c.id, col(Commitment.status) == terms.PENDING)
            .values(status=terms.OVERDUE, overdue_at=at)
        )
        if changed_rows(session, stmt) != 1:
            continue  # another process marked it, or the department recorded a result meanwhile
        marked += 1
        lic = session.get(Licence, c.licence_id)
        suspend = c.on_overdue == "suspend" and lic is not None and lic.state == st.VALID
        audit.record(
            session,
            "commitment.overdue",
            actor_kind="system",
            subject_kind="commitment",
            subject_id=c.id,
            details={
                "licence_id": c.licence_id,
                "holder_uscc": c.holder_uscc,
                "due": c.due.isoformat() if c.due else None,
                "as_of": at.isoformat(),
                "suspend": suspend,
            },
        )
        told = {
            "change": "commitment.overdue",
            "commitment_id": c.id,
            "due": c.due.isoformat() if c.due else None,
            "suspend": suspend,
        }
        emit(session, "commitment.overdue", licence=lic, data=told if lic else {**told, "holder_uscc": c.holder_uscc})
        if suspend and lic is not None:
            apply_state(session, None, lic, "suspend", terms.OVERDUE_REASON, actor_kind="system")
    return marked

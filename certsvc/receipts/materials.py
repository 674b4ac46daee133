"""容缺受理: the materials a receipt accepted as missing, tracked to received or overdue.

A receipt's ``materials_state`` is ``pending`` while materials are outstanding, ``overdue`` once
the sweep found one past its due date, ``complete`` when every one was received. Every change
locks the receipt row first (an UPDATE), then its materials, in that order, so that recording and
the sweep never deadlock and never lose each other's change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from certsvc import audit
from certsvc.core.clock import CST, today
from certsvc.db.models import Department, Enterprise, Receipt, ReceiptMaterial, utcnow
from certsvc.db.paging import Key, Keyset, Page, PageRequest, page_of, page_query
from certsvc.errors import Conflict, Invalid
from certsvc.events.outbox import emit
from certsvc.receipts.issuance import COMPLETE, OVERDUE, PENDING, own_receipt, receipt_view

# a material's state
RECEIVED = "received"
OUTSTANDING = "outstanding"

_BATCH = 500


def materials_of(s: Session, receipt_ids: list[str]) -> dict[str, list[ReceiptMaterial]]:
    """The tracked materials of these receipts, by receipt id, earliest due first."""
    out: dict[str, list[ReceiptMaterial]] = {r: [] for r in receipt_ids}
    if not receipt_ids:
        return out
    rows = s.exec(
        select(ReceiptMaterial)
        .where(col(ReceiptMaterial.receipt_id).in_(receipt_ids))
        .order_by(col(ReceiptMaterial.due), col(ReceiptMaterial.id))
    )
    for m in rows:
        out[m.receipt_id].append(m)
    return out


def material_state(m: ReceiptMaterial, on: date | None = None) -> str:
    """``received``, ``overdue`` (the sweep marked it, or its due date has passed) or ``outstanding``."""
    if m.received_at is not None:
        return RECEIVED
    if m.overdue_at is not None or (on or today()) > m.due:
        return OVERDUE
    return OUTSTANDING


def tracking_view(rec: Receipt, materials: list[ReceiptMaterial]) -> dict[str, Any]:
    """The receipt's 容缺 state and its tracked materials, as the API shows them."""
    on = today()
    items = [
        {
            "name": m.name,
            "due": m.due.isoformat(),
            "state": material_state(m, on),
            "received_at": m.received_at.isoformat() if m.received_at else None,
        }
        for m in materials
    ]
    states = {i["state"] for i in items}
    if not items or states == {RECEIVED}:
        state = COMPLETE
    elif OVERDUE in states or rec.materials_state == OVERDUE:
        state = OVERDUE
    else:
        state = PENDING
    return {
        "materials_state": state,
        "materials_missing": items,
        "outstanding": [i for i in items if i["state"] != RECEIVED],
    }


def _lock(s: Session, receipt_id: str) -> None:
    """Take the receipt row's write lock (PostgreSQL: the row; SQLite: the database) before its materials."""
    s.execute(update(Receipt).where(col(Receipt.id) == receipt_id).values(materials_state=col(Receipt.materials_state)))


def _settle(s: Session, rec: Receipt) -> str:
    """Set the receipt's state from its materials (under its lock): complete, overdue or pending."""
    open_ = [m for m in materials_of(s, [rec.id])[rec.id] if m.received_at is None]
    state = COMPLETE if not open_ else OVERDUE if any(m.overdue_at for m in open_) else PENDING
    rec.materials_state = state
    s.add(rec)
    return state


def record_received(s: Session, dept: Department, receipt_id: str, name: str) -> Receipt:
    """The issuing department records a missing material as received: 422 naming ``name`` for a
    material the receipt does not list, 409 when it was recorded already."""
    rec = own_receipt(s, dept, receipt_id)
    name = name.strip()
    _lock(s, rec.id)
    changed = s.execute(
        update(ReceiptMaterial)
        .where(
            col(ReceiptMaterial.receipt_id) == rec.id,
            col(ReceiptMaterial.name) == name,
            col(ReceiptMaterial.received_at).is_(None),
        )
        .values(received_at=utcnow())
    )
    if not getattr(changed, "rowcount", 0):
        known = s.exec(
            select(ReceiptMaterial).where(ReceiptMaterial.receipt_id == rec.id, ReceiptMaterial.name == name)
        ).first()
        if known is None:
            raise Invalid(f"name: {name!r} is not a missing material of this receipt", field="name")
        raise Conflict(f"name: {name} was recorded as received already", field="name")
    s.expire_all()
    rec = own_receipt(s, dept, receipt_id)
    state = _settle(s, rec)
    audit.record(
        s,
        "receipt.material_received",
        actor_kind="department",
        actor_id=dept.id,
        subject_kind="receipt",
        subject_id=rec.id,
        details={"name": name, "state": state},
    )
    return rec


RECEIPTS = Keyset("receipts", (Key(col(Receipt.issued_at), datetime, True), Key(col(Receipt.id), str, True)))


def receipts_of_enterprise(s: Session, ent: Enterprise, page: PageRequest) -> Page[Receipt]:
    """A page of the enterprise's receipts (applicant USCC), newest first."""
    q = select(Receipt).where(Receipt.applicant_uscc == ent.uscc)
    rows = s.exec(page_query(q, RECEIPTS, page)).all()  # type: ignore[call-overload]
    return page_of(rows, RECEIPTS, page, lambda r: (r.issued_at, r.id))


def _tell_overdue(s: Session, receipt_id: str, overdue: list[dict[str, Any]]) -> None:
    """``receipt.overdue`` to the issuing department's own subscriptions (it follows up the applicant)."""
    rec = s.get(Receipt, receipt_id)
    if rec is None:
        return
    told = {
        "receipt_id": rec.id,
        "matter": rec.matter,
        "application_number": rec.application_number,
        "applicant_uscc": rec.applicant_uscc,
        "applicant_name": rec.applicant_name,
        "materials": [{"name": d["name"], "due": d["due"]} for d in overdue],
    }
    emit(s, "receipt.overdue", data=told, departments={rec.department_id}, order_key=rec.id)


def sweep_receipt_materials(s: Session, at: datetime) -> int:
    """Mark materials still outstanding past their due date (as of ``at``, China's calendar) overdue,
    and their receipts ``overdue``; each material once (compare-and-set), each change audited."""
    day = at.astimezone(CST).date()
    due = s.exec(
        select(ReceiptMaterial)
        .where(
            col(ReceiptMaterial.received_at).is_(None),
            col(ReceiptMaterial.overdue_at).is_(None),
            col(ReceiptMaterial.due) < day,
        )
        .order_by(col(ReceiptMaterial.receipt_id), col(ReceiptMaterial.id))
        .limit(_BATCH)
    ).all()
    entries: list[audit.Entry] = []
    for receipt_id in dict.fromkeys(m.receipt_id for m in due):
        _lock(s, receipt_id)
        before = len(entries)
        for m in (m for m in due if m.receipt_id == receipt_id):
            changed = s.execute(
                update(ReceiptMaterial)
                .where(
                    col(ReceiptMaterial.id) == m.id,
                    col(ReceiptMaterial.received_at).is_(None),
                    col(ReceiptMaterial.overdue_at).is_(None),
                )
                .values(overdue_at=at)
            )
            if getattr(changed, "rowcount", 0) == 1:
                details = {"name": m.name, "due": m.due.isoformat(), "at": at.isoformat()}
                entries.append(audit.Entry("receipt.overdue", "system", None, "receipt", receipt_id, details))
        if len(entries) > before:
            _tell_overdue(s, receipt_id, [e.details or {} for e in entries[before:]])
            s.execute(
                update(Receipt)
                .where(col(Receipt.id) == receipt_id, col(Receipt.materials_state) == PENDING)
                .values(materials_state=OVERDUE)
            )
    if entries:
        audit.record_many(s, entries)
    return len(entries)


DEPARTMENT_RECEIPTS = Keyset("department-receipts", RECEIPTS.keys)


def department_receipts(
    s: Session, dept: Department, page: PageRequest, base_url: str, *, state: str | None = None
) -> dict[str, Any]:
    """A page of the department's receipts, newest first, each with its missing materials tracked; only those
    whose materials are ``state`` (pending, overdue, complete) if given."""
    if state not in (None, PENDING, OVERDUE, COMPLETE):
        raise Invalid(f"state: {PENDING}, {OVERDUE} or {COMPLETE}", field="state")
    q = select(Receipt).where(Receipt.department_id == dept.id)
    if state:
        q = q.where(Receipt.materials_state == state)
    rows = s.exec(page_query(q, DEPARTMENT_RECEIPTS, page)).all()  # type: ignore[call-overload]
    found: Page[Receipt] = page_of(rows, DEPARTMENT_RECEIPTS, page, lambda r: (r.issued_at, r.id))
    tracked = materials_of(s, [r.id for r in found.items])

    def view(rec: Receipt) -> dict[str, Any]:
        return {**receipt_view(rec, dept, base_url, full=True), **tracking_view(rec, tracked[rec.id])}

    return found.answer(view)


def department_view(s: Session, rec: Receipt, dept: Department, base_url: str) -> dict[str, Any]:
    """A receipt as its department sees it, with its missing materials tracked."""
    view = receipt_view(rec, dept, base_url, full=True)
    view.update(tracking_view(rec, materials_of(s, [rec.id])[rec.id]))
    return view


def enterprise_receipts(s: Session, ent: Enterprise, base_url: str, paging: PageRequest) -> dict[str, Any]:
    """A page of the enterprise's receipts, newest first, each with what is still outstanding and by when."""
    found = receipts_of_enterprise(s, ent, paging)
    page = found.items
    tracked = materials_of(s, [r.id for r in page])
    names = {d.id: d.name for d in s.exec(select(Department))}
    items = []
    for rec in page:
        items.append(
            {
                "id": rec.id,
                "matter": rec.matter,
                "application_number": rec.application_number,
                "department": names.get(rec.department_id, ""),
                "issued_at": rec.issued_at.isoformat(),
                "verify_url": f"{base_url}/r/{rec.qr_payload}",
                "pdf_url": f"{base_url}/api/v1/enterprise/receipts/{rec.id}/pdf",
                **tracking_view(rec, tracked[rec.id]),
            }
        )
    return {"items": items, "next_cursor": found.next_cursor}
